"""Shared helpers for the stand-in's tests: object builders, URLs and a watch reader."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from polling import eventually

JSON = dict[str, Any]
EXPORTS = "/apis/streamexport.io/v1/namespaces/default/exports"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
JOBS = "/apis/batch/v1/namespaces/default/jobs"
PODS = "/api/v1/namespaces/default/pods"
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def export(name: str = "e-1", labels: dict[str, str] | None = None, **spec: Any) -> JSON:
    body: JSON = {
        "apiVersion": "streamexport.io/v1",
        "kind": "Export",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "csv",
            "filters": {},
            "requestedBy": {"userId": "u-1", "email": "owner@example.com"},
            "estimatedRowCount": 10,
            **spec,
        },
    }
    return body


def configmap(name: str, labels: dict[str, str] | None = None, **meta: Any) -> JSON:
    return {"metadata": {"name": name, "labels": labels or {}, **meta}, "data": {"k": "v"}}


def owner_ref(owner: JSON) -> JSON:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }


def job(name: str, owner: JSON | None = None) -> JSON:
    meta: JSON = {"name": name}
    if owner is not None:
        meta["ownerReferences"] = [owner_ref(owner)]
    container = {"name": "main", "image": "exporter:dev"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}},
    }


async def send(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> JSON:
    """One request; returns the JSON body with the HTTP status under `_status`."""
    async with http.request(method, url, **kwargs) as response:
        body: JSON = await response.json()
        return {**body, "_status": response.status}


class WatchReader:
    """Reads a watch stream in the background so tests can wait for events with a deadline."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.events: list[JSON] = []
        self.ended = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for line in self.response.content:
                if line.strip():
                    self.events.append(json.loads(line))
        except aiohttp.ClientError:
            pass
        finally:
            self.ended.set()

    async def wait_for(self, predicate: Callable[[list[JSON]], bool], timeout: float = 5) -> None:
        """Poll the collected events until `predicate` holds, failing at the deadline."""

        async def holds() -> bool:
            return predicate(self.events)

        await eventually(holds, timeout=timeout, interval=0.01)

    def names(self, kind: str | None = None) -> list[str]:
        return [
            e["object"]["metadata"]["name"]
            for e in self.events
            if kind is None or e["type"] == kind
        ]

    async def close(self) -> None:
        self.response.close()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
