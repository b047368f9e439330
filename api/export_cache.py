"""The Exports of the API's namespace, kept in memory by a list and a watch (an informer).

`GET /api/v1/exports` pages from here instead of reading every Export on every call: at
start-up the cache lists the namespace's Exports (paged with `limit`/`continue`), then
watches from that list's resourceVersion; a 410 Gone (the version fell out of the server's
history) lists again, and the fresh index replaces the old one whole, so a page is never
built from half a list. While the cache cannot reach the Kubernetes API it is not synced and
a list waits up to `KUBERNETES_TIMEOUT_SECONDS` for it, then answers 503 — never a stale or
partial page on purpose. GET of one export still reads the API server.

Changes made by others (the operator's status patches, deletes) show up once their watch
event arrives (milliseconds); an export this process created shows up at once
(`remember_created`: read-your-writes for the caller of POST).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from api.errors import Unavailable
from api.export_index import Body, ExportIndex
from api.kube import KubeClient, KubeError, Manifest
from api.listing import ListQuery

log = logging.getLogger("api.export_cache")

LIST_PAGE_SIZE = 500
# The server ends each watch after this long and lightkube opens the next one; the wait
# for any event is bounded by it plus KUBERNETES_TIMEOUT_SECONDS (see KubeClient).
WATCH_SECONDS = 30
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0

NOT_SYNCED = "The export list is not in sync with the Kubernetes API; try again later"


def backoff_seconds(failures: int) -> float:
    """Exponential with full jitter (so that API replicas do not retry in step)."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(failures - 1, 0))
    return random.uniform(ceiling / 2, ceiling)  # jitter, not security


class ExportCache:
    def __init__(
        self,
        kube: KubeClient,
        namespace: str,
        *,
        wait_seconds: float,
        watch_seconds: int = WATCH_SECONDS,
    ) -> None:
        self._kube = kube
        self._namespace = namespace
        self._wait_seconds = wait_seconds
        self._watch_seconds = watch_seconds
        self._index = ExportIndex()
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.lists = 0  # how many times the whole namespace was listed (tests, logs)

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def __len__(self) -> int:
        return len(self._index)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="export-cache")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def page(self, owner: str | None, query: ListQuery) -> tuple[list[Body], str | None]:
        """A page from memory once synced; `Unavailable` if not synced within the deadline."""
        if not self._synced.is_set():
            try:
                async with asyncio.timeout(self._wait_seconds):
                    await self._synced.wait()
            except TimeoutError:
                raise Unavailable(NOT_SYNCED) from None
        return self._index.page(owner, query)

    def remember_created(self, export: Manifest) -> None:
        """An export this API just created; a version the watch already brought is newer."""
        if export["metadata"]["name"] not in self._index:
            self._index.upsert(export)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                version = await self._relist()
                failures = 0
                await self._follow(version)
            except KubeError as exc:
                if exc.status == 410:
                    # Expected now and then: the watch fell behind the server's history.
                    # Keep serving the old index until the new list replaces it.
                    log.info("export watch expired; listing again", extra={"error": str(exc)})
                    continue
                failures += 1
                self._lost(exc, failures)
            except Unavailable as exc:
                failures += 1
                self._lost(exc, failures)
            except Exception as exc:  # the cache must outlive any one bug
                failures += 1
                log.exception("export cache failed")
                self._lost(exc, failures)
            await asyncio.sleep(backoff_seconds(failures) if failures else 0)

    def _lost(self, exc: Exception, failures: int) -> None:
        if self._synced.is_set():
            log.warning("export cache lost sync", extra={"error": str(exc)})
        self._synced.clear()
        log.debug("export cache retrying", extra={"failures": failures})

    async def _relist(self) -> str:
        """List every Export of the namespace, page by page; the version to watch from."""
        exports: list[Manifest] = []
        token: str | None = None
        version = ""
        while True:
            page = await self._kube.list_exports(
                self._namespace, limit=LIST_PAGE_SIZE, continue_token=token
            )
            # Every page of one list shares the first page's snapshot (Kubernetes): watch
            # from its version, so that nothing changed since then is missed.
            version = version or page.resource_version
            exports.extend(page.items)
            token = page.continue_token
            if token is None:
                break
        self._index = ExportIndex.of(exports)
        self.lists += 1
        self._synced.set()
        log.info("export cache synced", extra={"exports": len(exports), "version": version})
        return version

    async def _follow(self, version: str) -> None:
        events = self._kube.watch_exports(
            self._namespace, version, server_timeout=self._watch_seconds
        )
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for kind, export in events:
                if kind in ("ADDED", "MODIFIED"):
                    self._index.upsert(export)
                elif kind == "DELETED":
                    self._index.delete(str(export["metadata"]["name"]))
        # lightkube re-opens a watch the server ended; getting here means it stopped.
        raise Unavailable("The export watch ended")
