"""The operator's calls beyond kopf's own: lightkube's AsyncClient, dicts in and out.

A thin adapter, so that reconcile, notifier, uploads and expiry read as they did: `get`
returns None for a missing object, `create` None when one of that name exists, `delete`
False when it was already gone. Resources are lightkube's classes (`Job`, `Pod`,
`Export.Status`...). A server that does not answer within the deadline raises
`kopf.TemporaryError`, so the handler is retried later instead of hanging.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf
from lightkube import ApiError, AsyncClient, codecs
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod
from lightkube.types import CascadeType, PatchType

from streamexport_core.kube import DEFAULT_TIMEOUT_SECONDS, Export, NetworkError, async_client

__all__ = ["ApiError", "Export", "Job", "KubeClient", "Pod"]

JSON = dict[str, Any]
FIELD_MANAGER = "streamexport-operator"


def _as_dict(obj: Any) -> JSON:
    result: JSON = obj.to_dict()
    return result


class KubeClient:
    """`async with KubeClient.connect(url, timeout) as kube:`; every call returns a dict."""

    def __init__(self, client: AsyncClient, *, timeout_seconds: float) -> None:
        self._client = client
        self.timeout_seconds = timeout_seconds

    @classmethod
    def connect(
        cls, api_url: str | None, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> KubeClient:
        client = async_client(api_url, timeout_seconds=timeout_seconds, field_manager=FIELD_MANAGER)
        return cls(client, timeout_seconds=timeout_seconds)

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close()

    def _unavailable(self, error: NetworkError) -> kopf.TemporaryError:
        return kopf.TemporaryError(
            f"the Kubernetes API did not answer within {self.timeout_seconds:g} s: {error!r}",
            delay=self.timeout_seconds,
        )

    async def get(self, res: type[Any], name: str, *, namespace: str) -> JSON | None:
        """The object, or None when it does not exist."""
        try:
            return _as_dict(await self._client.get(res, name, namespace=namespace))
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise
        except NetworkError as error:
            raise self._unavailable(error) from error

    async def list(
        self, res: type[Any], *, namespace: str, labels: Mapping[str, str] | None = None
    ) -> list[JSON]:
        try:
            items = self._client.list(res, namespace=namespace, labels=dict(labels or {}))
            return [_as_dict(item) async for item in items]
        except NetworkError as error:
            raise self._unavailable(error) from error

    async def create(self, body: Mapping[str, Any], *, namespace: str) -> JSON | None:
        """The created object, or None when one of that name already exists."""
        try:
            metadata = {**body.get("metadata", {}), "namespace": namespace}
            obj = codecs.from_dict({**body, "metadata": metadata})
            return _as_dict(await self._client.create(obj))
        except ApiError as error:
            if error.status.code == 409 and error.status.reason in ("AlreadyExists", None, ""):
                return None
            raise
        except NetworkError as error:
            raise self._unavailable(error) from error

    async def merge_patch(
        self, res: type[Any], name: str, patch: Mapping[str, Any], *, namespace: str
    ) -> JSON:
        """A JSON merge patch (RFC 7386): the same for built-in kinds and for Exports."""
        try:
            updated = await self._client.patch(
                res, name, dict(patch), namespace=namespace, patch_type=PatchType.MERGE
            )
            return _as_dict(updated)
        except NetworkError as error:
            raise self._unavailable(error) from error

    async def delete(
        self, res: type[Any], name: str, *, namespace: str, propagation: str = "Background"
    ) -> bool:
        """Delete; False when it was already gone."""
        try:
            await self._client.delete(
                res, name, namespace=namespace, cascade=CascadeType(propagation)
            )
        except ApiError as error:
            if error.status.code == 404:
                return False
            raise
        except NetworkError as error:
            raise self._unavailable(error) from error
        return True
