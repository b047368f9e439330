"""The API's four calls on the Export resource, over lightkube's AsyncClient.

A thin adapter that keeps the service readable and maps Kubernetes answers to what the
service acts on: 404 → None, 409 → `AlreadyExists` or `Conflict`, another 4xx (e.g. 410 for
an expired continue token) → `KubeError`; our credentials or RBAC failing (401, 403), the
server overloaded or failing (429, 5xx), unreachable or not answering within
`KUBERNETES_TIMEOUT_SECONDS` → `Unavailable` (a 503 with a clear message).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
from lightkube import ApiError, AsyncClient, codecs
from lightkube.types import PatchType

from api.errors import Unavailable
from api.settings import Settings
from streamexport_core.kube import Export, async_client

log = logging.getLogger("api.kube")

Manifest = dict[str, Any]
T = TypeVar("T")
FIELD_MANAGER = "streamexport-api"


class KubeError(Exception):
    """The Kubernetes API answered with an error status."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason


class AlreadyExists(KubeError):
    """A create found an object of that name (HTTP 409, reason AlreadyExists)."""


class Conflict(KubeError):
    """A write lost a race: the object changed since it was read (HTTP 409, reason Conflict)."""


@dataclass(frozen=True)
class Page:
    items: list[Manifest]
    continue_token: str | None


class KubeClient:
    def __init__(self, api_url: str | None, *, timeout_seconds: float = 10.0) -> None:
        self._api_url = api_url
        self._timeout_seconds = timeout_seconds
        self._client: AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KubeClient:
        """`KUBERNETES_API_URL` when set, else in-cluster, else the kubeconfig."""
        return cls(settings.kubernetes_api_url, timeout_seconds=settings.kubernetes_timeout_seconds)

    async def open(self) -> None:
        self._client = async_client(
            self._api_url, timeout_seconds=self._timeout_seconds, field_manager=FIELD_MANAGER
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise RuntimeError("KubeClient.open() was not called")
        return self._client

    async def create_export(self, namespace: str, manifest: Manifest) -> Manifest:
        body = {**manifest, "metadata": {**manifest.get("metadata", {}), "namespace": namespace}}
        created = self.client.create(codecs.from_dict(body))
        return dict(await self._call("create", created))

    async def get_export(self, namespace: str, name: str) -> Manifest | None:
        try:
            export = self.client.get(Export, name, namespace=namespace)
            return dict(await self._call("get", export))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    async def list_exports(
        self,
        namespace: str,
        *,
        label_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        timeout: float | None = None,
    ) -> Page:
        """One page of Exports and the token for the next (None on the last page)."""
        # lightkube's `AsyncClient.list` follows `continue` by itself and never hands the
        # token out, which a paged HTTP API needs; its request layer (what `list` runs on)
        # does: same request building, auth, deadline and decoding.
        generic = self.client._client
        request = generic.prepare_request(
            "list",
            res=Export,
            namespace=namespace,
            params={"labelSelector": label_selector, "limit": limit, "continue": continue_token},
        )
        if timeout is not None:
            request.timeout = httpx2.Timeout(timeout)

        async def page() -> tuple[bool, Any, list[Any]]:
            adapter_request = generic.build_adapter_request(request)
            response = await generic.send(adapter_request)  # type: ignore[no-untyped-call]
            more: bool
            more, version, items = generic.handle_response("list", response, request)
            return more, version, items

        more, _, items = await self._call("list", page(), timeout)
        token = request.params.get("continue") if more else None
        return Page(items=[dict(item) for item in items], continue_token=token or None)

    async def patch_export(self, namespace: str, name: str, patch: Manifest) -> Manifest:
        """A JSON merge patch; a `metadata.resourceVersion` in it makes the write conditional."""
        patched = self.client.patch(
            Export, name, patch, namespace=namespace, patch_type=PatchType.MERGE
        )
        return dict(await self._call("patch", patched))

    async def _call(self, verb: str, call: Awaitable[T], timeout: float | None = None) -> T:
        try:
            return await call
        except ApiError as exc:
            raise _error(verb, exc) from None
        except httpx2.TimeoutException as exc:
            seconds = timeout or self._timeout_seconds
            log.warning("kubernetes api %s timed out after %gs: %r", verb, seconds, exc)
            raise Unavailable(
                f"The Kubernetes API did not answer within {seconds:g} s; try again later"
            ) from None
        except (httpx2.HTTPError, KeyError) as exc:
            # Unreachable, or an answer that is not a Status (lightkube reads an error's
            # Content-Type header unguarded: a bare proxy 502 without one is a KeyError).
            log.warning("kubernetes api %s failed: %r", verb, exc)
            raise Unavailable("The Kubernetes API is unavailable; try again later") from None


def _error(verb: str, exc: ApiError) -> Exception:
    status = exc.status.code or 500
    reason = exc.status.reason or ""
    message = exc.status.message or ""
    if status >= 500 or status in (401, 403, 429):
        # Our credentials, RBAC, or the server itself: nothing the caller can fix.
        log.warning("kubernetes api %s: %s %s %s", verb, status, reason, message)
        return Unavailable("The Kubernetes API is unavailable; try again later")
    if status == 409 and reason == "AlreadyExists":
        return AlreadyExists(status, reason, message)
    if status == 409:
        return Conflict(status, reason, message)
    return KubeError(status, reason, message)
