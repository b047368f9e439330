"""The development tools' Kubernetes client (job runner, demo, tests): lightkube, dicts in and out.

Development tooling only; the same library the API, the operator and the exporter use
(`streamexport_core.kube`), over plain HTTP to the local stand-in (or any API server URL).

    async with KubeClient("http://127.0.0.1:18443") as kube:
        job = await kube.get(Job, "my-job", namespace="default")
        async with contextlib.aclosing(kube.watch(Job, resource_version=rv)) as events:
            async for kind, job in events: ...

Errors are lightkube's `ApiError` (a Kubernetes `Status`: `status_code(error)`) and httpx's
transport errors (unreachable, or no answer within the deadline).
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import httpx2
from lightkube import ALL_NS, ApiError, AsyncClient, codecs
from lightkube.models.meta_v1 import DeleteOptions, ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap, Event, Pod, Secret
from lightkube.types import CascadeType, PatchType

from streamexport_core.kube import Export, async_client

__all__ = [
    "JSON",
    "ApiError",
    "ConfigMap",
    "Event",
    "Export",
    "Job",
    "KubeClient",
    "Pod",
    "Secret",
    "is_transient",
    "status_code",
]

JSON = dict[str, Any]


def status_code(error: ApiError) -> int:
    return int(error.status.code or 0)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the API server was unreachable, overloaded or failed internally."""
    if isinstance(exc, ApiError):
        return status_code(exc) == 429 or status_code(exc) >= 500
    return isinstance(exc, httpx2.TransportError | OSError | TimeoutError)


def _as_dict(obj: Any) -> JSON:
    result: JSON = obj.to_dict()
    return result


def _namespace(namespace: str | None) -> str:
    return ALL_NS if namespace is None else namespace


class KubeClient:
    """Open with `async with KubeClient(url) as kube:`; every call returns a dict."""

    def __init__(self, base_url: str, *, request_timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_timeout = request_timeout
        self._client: AsyncClient | None = None

    async def __aenter__(self) -> KubeClient:
        self._client = async_client(
            self.base_url, timeout_seconds=self.request_timeout, field_manager="devstack"
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def client(self) -> AsyncClient:
        assert self._client is not None, "use `async with KubeClient(...)`"
        return self._client

    async def get(self, res: type[Any], name: str, *, namespace: str | None = None) -> JSON:
        return _as_dict(await self.client.get(res, name, namespace=namespace))

    async def list(
        self,
        res: type[Any],
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[JSON]:
        """Every item (lightkube follows `continue`); `namespace=None` lists all namespaces."""
        items, _ = await self.list_with_version(res, namespace=namespace, labels=labels)
        return items

    async def list_with_version(
        self,
        res: type[Any],
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> tuple[builtins.list[JSON], str]:
        """The items and the list's resourceVersion (where a watch starts)."""
        listing = self.client.list(res, namespace=_namespace(namespace), labels=dict(labels or {}))
        items = [_as_dict(item) async for item in listing]
        return items, listing.resourceVersion

    async def create(self, body: Mapping[str, Any], *, namespace: str | None = None) -> JSON:
        metadata = dict(body.get("metadata") or {})
        if namespace is not None:
            metadata["namespace"] = namespace
        obj = codecs.from_dict({**body, "metadata": metadata})
        return _as_dict(await self.client.create(obj))

    async def merge_patch(
        self, res: type[Any], name: str, patch: Mapping[str, Any], *, namespace: str | None = None
    ) -> JSON:
        patched = await self.client.patch(
            res, name, dict(patch), namespace=namespace, patch_type=PatchType.MERGE
        )
        return _as_dict(patched)

    async def delete(
        self,
        res: type[Any],
        name: str,
        *,
        namespace: str | None = None,
        propagation: str = "Background",
        grace_period: int | None = None,
    ) -> None:
        await self.client.delete(
            res,
            name,
            namespace=namespace,
            cascade=CascadeType(propagation),
            grace_period=grace_period,
        )

    async def evict(self, name: str, *, namespace: str, grace_period: int | None = None) -> None:
        """POST a policy/v1 Eviction for the pod (`pods/<name>/eviction`), as `kubectl drain`
        does; `grace_period` overrides the pod's terminationGracePeriodSeconds."""
        options = None if grace_period is None else DeleteOptions(gracePeriodSeconds=grace_period)
        eviction = Pod.Eviction(
            metadata=ObjectMeta(name=name, namespace=namespace), deleteOptions=options
        )
        await self.client.create(eviction, name=name, namespace=namespace)

    async def watch(
        self,
        res: type[Any],
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int = 300,
        labels: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[tuple[str, JSON], None]:
        """(type, object) events from `resource_version` on. lightkube re-opens the stream
        when the server ends it and raises `ApiError` 410 when the version has expired."""
        events = self.client.watch(
            res,
            namespace=_namespace(namespace),
            resource_version=resource_version,
            server_timeout=timeout_seconds,
            labels=dict(labels or {}),
            fields=dict(fields or {}),
        )
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for kind, obj in events:
                yield kind, _as_dict(obj)
