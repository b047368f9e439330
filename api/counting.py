"""COUNT(*) of what an export would hold, with the same catalog-built SQL as the exporter."""

from __future__ import annotations

import logging
from collections.abc import Mapping
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


class RowCounter:
    """A small pool of read-only UTC sessions whose statements time out."""

    def __init__(self, settings: Settings) -> None:
        self._timeout_ms = settings.count_timeout_ms
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            settings.database_url,
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
            kwargs={"autocommit": True, "application_name": "streamexport-api"},
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
            async with self.pool.connection(timeout=wait) as conn:
                cursor = await conn.execute(query, params)
                row = await cursor.fetchone()
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
