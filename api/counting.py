"""COUNT(*) of what an export would hold, with the same catalog-built SQL as the exporter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api.errors import Unavailable
from api.settings import Settings
from streamexport_core.catalog import Resource
from streamexport_core.sql import count_query

log = logging.getLogger("api.counting")
PING_TIMEOUT_SECONDS = 2.0
# statement_timeout is enforced by the server, so a server (or link) that stops answering
# never enforces it: the client's own deadline is the statement timeout plus this margin (the
# server's QueryCanceled, with the better message, normally comes first).
CLIENT_MARGIN_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 5  # libpq's connect_timeout, for every new pooled connection


class RowCounter:
    """A small pool of read-only UTC sessions whose statements time out."""

    def __init__(self, settings: Settings) -> None:
        self._timeout_ms = settings.count_timeout_ms
        self._abandoned: set[asyncio.Future[Any]] = set()
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            settings.database_url,
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
            kwargs={
                "autocommit": True,
                "application_name": "streamexport-api",
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            },
            configure=self._configure,
            open=False,
            name="streamexport-api",
        )

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        # Date filters are whole UTC days (streamexport_core.sql); the API never writes.
        await conn.execute(
            sql.SQL(
                "SET TIME ZONE 'UTC'; SET statement_timeout = {};"
                " SET default_transaction_read_only = on"
            ).format(sql.Literal(self._timeout_ms))
        )

    async def open(self) -> None:
        # wait=False: the API starts while the database is down and /readyz says so.
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close()

    async def count(self, resource: Resource, filters: Mapping[str, Any]) -> int:
        """The number of rows `filters` select; `Unavailable` on timeout or a database failure."""
        query, params = count_query(resource, filters)
        row = await self._fetch_one(query, params, self._timeout_ms / 1000)
        return int(row[0])

    async def ping(self) -> None:
        await self._fetch_one(sql.SQL("SELECT 1"), {}, PING_TIMEOUT_SECONDS)

    async def _fetch_one(
        self, query: sql.Composed | sql.SQL, params: Mapping[str, Any], wait: float
    ) -> tuple[Any, ...]:
        try:
            row = await self._within(wait + CLIENT_MARGIN_SECONDS, self._query(query, params, wait))
        except PoolTimeout:
            raise Unavailable("The database is busy or unreachable; try again later") from None
        except psycopg.errors.QueryCanceled:
            raise Unavailable(
                f"Counting the matching rows took longer than {self._timeout_ms} ms;"
                " narrow your filters or try again later"
            ) from None
        except psycopg.OperationalError as exc:
            log.warning("database error: %s", exc)
            raise Unavailable("The database is unavailable; try again later") from None
        assert row is not None
        return tuple(row)

    async def _query(
        self, query: sql.Composed | sql.SQL, params: Mapping[str, Any], wait: float
    ) -> Any:
        async with self.pool.connection(timeout=wait) as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchone()

    async def _within(self, seconds: float, work: Coroutine[Any, Any, Any]) -> Any:
        """`work`'s result, or `Unavailable` after `seconds`. A cancelled psycopg query first
        sends the server a cancel request and waits for it (up to 5 s, through the same hung
        link): that clean-up goes on in the background instead of in the caller's answer."""
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=seconds)
        if task in done:
            return task.result()
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(self._forget)
        log.warning("database did not answer within %.1fs", seconds)
        raise Unavailable("The database did not answer in time; try again later")

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: it was logged when abandoned
