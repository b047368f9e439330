"""Watch streams: newline-delimited JSON events, subscribed before the snapshot is taken."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import errors, tables
from .objects import for_version
from .registry import ResourceType
from .selectors import Selector
from .store import Event, Store

JSON = dict[str, Any]


@dataclass(frozen=True)
class WatchScope:
    """What one watch request sees: a resource, maybe a namespace, and its selectors."""

    rt: ResourceType
    namespace: str | None
    labels: Selector
    fields: Selector

    def visible(self, obj: JSON | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace") != self.namespace:
            return False
        return self.labels.matches(obj) and self.fields.matches(obj)

    def translate(self, event: Event) -> tuple[str, JSON] | None:
        """The event as this watcher sees it: a change of selector match is ADDED/DELETED."""
        if event.storage_key != self.rt.storage_key:
            return None
        now_in = self.visible(event.obj)
        was_in = self.visible(event.old) if event.type == "MODIFIED" else now_in
        if now_in and was_in:
            kind = event.type
        elif now_in:
            kind = "ADDED"
        elif was_in:
            kind = "DELETED"
        else:
            return None
        return kind, for_version(self.rt, event.obj)


def _parse_timeout(params: Mapping[str, str]) -> float | None:
    raw = params.get("timeoutSeconds")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise errors.bad_request(f"invalid timeoutSeconds: {raw!r}") from None
    if value < 0:
        raise errors.bad_request("timeoutSeconds must not be negative")
    return value


def _parse_version(raw: str | None) -> int | None:
    if not raw or raw == "0":
        return None  # "0" means "any": start from the current state, like no version at all
    try:
        return int(raw)
    except ValueError:
        raise errors.bad_request(f"invalid resourceVersion: {raw!r}") from None


async def serve_watch(
    request: web.Request, store: Store, scope: WatchScope, *, as_table: bool, include: str
) -> web.StreamResponse:
    params = request.query
    timeout = _parse_timeout(params)
    since = _parse_version(params.get("resourceVersion"))
    send_initial = params.get("sendInitialEvents") == "true"

    # Subscribe first, then snapshot: both happen without an await in between, and events
    # already covered by the snapshot are skipped below by their resourceVersion.
    subscription = store.subscribe()
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    try:
        first: list[tuple[str, JSON]] = []
        error: errors.KubeError | None = None
        if since is None or send_initial:
            first = [
                ("ADDED", for_version(scope.rt, obj))
                for obj in store.list_objects(scope.rt, scope.namespace, scope.labels, scope.fields)
            ]
        else:
            try:
                history = store.events_since(since)
            except errors.KubeError as exc:
                error = exc
            else:
                first = [t for t in map(scope.translate, history) if t is not None]
        seen_rv = store.resource_version

        response.enable_chunked_encoding()
        await response.prepare(request)
        writer = _Writer(response, scope.rt, as_table=as_table, include=include)

        if error is not None:
            await writer.send({"type": "ERROR", "object": error.status()})
            return response
        for kind, obj in first:
            await writer.event(kind, obj)
        if send_initial:
            await writer.send({"type": "BOOKMARK", "object": _bookmark(scope.rt, seen_rv)})

        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                while (event := await subscription.queue.get()) is not None:
                    if event.rv <= seen_rv:
                        continue  # already part of the snapshot or the replayed history
                    translated = scope.translate(event)
                    if translated is not None:
                        await writer.event(*translated)
        except TimeoutError:
            pass  # timeoutSeconds elapsed: end the stream normally, clients re-watch
        return response
    except ConnectionResetError:
        return response  # the client went away; nothing left to say
    finally:
        store.unsubscribe(subscription)


def _bookmark(rt: ResourceType, rv: int) -> JSON:
    return {
        "kind": rt.kind,
        "apiVersion": rt.api_version,
        "metadata": {
            "resourceVersion": str(rv),
            "annotations": {"k8s.io/initial-events-end": "true"},
        },
    }


class _Writer:
    """Serialises events; Table watches carry column definitions only in the first event."""

    def __init__(
        self, response: web.StreamResponse, rt: ResourceType, *, as_table: bool, include: str
    ):
        self._response = response
        self._rt = rt
        self._as_table = as_table
        self._include = include
        self._headers_sent = False

    async def event(self, kind: str, obj: JSON) -> None:
        if self._as_table:
            meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            obj = tables.table(
                self._rt,
                [obj],
                include=self._include,
                list_meta=meta,
                headers=not self._headers_sent,
            )
            self._headers_sent = True
        await self.send({"type": kind, "object": obj})

    async def send(self, event: JSON) -> None:
        await self._response.write(json.dumps(event).encode() + b"\n")
