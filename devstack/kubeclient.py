"""A tiny asyncio Kubernetes REST client for the development tools (job runner, demo).

Development tooling only: it speaks plain HTTP to the local Kubernetes API stand-in (or any
API server URL given), with no authentication. Production components use their own clients.

    async with KubeClient("http://127.0.0.1:18443") as kube:
        job = await kube.get(resource_path("batch/v1", "jobs", "default", "my-job"))
        async with contextlib.aclosing(kube.watch(path, resource_version=rv)) as events:
            async for event in events: ...

Close a watch you leave early (`aclosing`, as above), so that its connection is released.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp

JSON = dict[str, Any]
# A watch event is one JSON line; Kubernetes objects stay below etcd's ~1.5 MiB.
READ_BUFFER_BYTES = 2 * 2**20


class KubeError(Exception):
    """A non-2xx answer from the API server, with its Kubernetes `Status`."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"HTTP {status}: {message}")


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the API server was unreachable, overloaded or failed internally."""
    if isinstance(exc, KubeError):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, aiohttp.ClientError | OSError | asyncio.TimeoutError)


def resource_path(
    api_version: str, plural: str, namespace: str | None = None, name: str | None = None
) -> str:
    """`/api/v1/...` for the core group, `/apis/<group>/<version>/...` otherwise."""
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespace is not None:
        base += f"/namespaces/{namespace}"
    base += f"/{plural}"
    if name is not None:
        base += f"/{name}"
    return base


class KubeClient:
    """Open with `async with KubeClient(url) as kube:`; every call returns parsed JSON."""

    def __init__(self, base_url: str, *, request_timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> KubeClient:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            read_bufsize=READ_BUFFER_BYTES,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use `async with KubeClient(...)`"
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> JSON:
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        async with self.session.request(
            method,
            self.base_url + path,
            data=data,
            params=params,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self.request_timeout),
        ) as response:
            text = await response.text()
            try:
                payload: Any = json.loads(text) if text else {}
            except ValueError:
                payload = text  # e.g. a proxy's HTML error page
            if response.status >= 400:
                raise KubeError(response.status, payload)
            if not isinstance(payload, dict):
                raise KubeError(response.status, f"not a JSON object: {text[:200]!r}")
            return payload

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSON:
        return await self.request("GET", path, params=params)

    async def list(self, path: str, *, label_selector: str | None = None) -> list[JSON]:
        """The `items` of a list (one page: the stand-in and the runner's lists are small)."""
        params = {"labelSelector": label_selector} if label_selector else None
        items = (await self.get(path, params))["items"]
        return list(items or [])

    async def create(self, path: str, body: JSON) -> JSON:
        return await self.request("POST", path, body=body)

    async def merge_patch(self, path: str, body: JSON) -> JSON:
        return await self.request(
            "PATCH", path, body=body, content_type="application/merge-patch+json"
        )

    async def delete(self, path: str, propagation: str = "Background") -> JSON:
        return await self.request("DELETE", path, body={"propagationPolicy": propagation})

    async def watch(
        self,
        path: str,
        *,
        resource_version: str | None = None,
        timeout_seconds: int = 300,
        label_selector: str | None = None,
    ) -> AsyncGenerator[JSON, None]:
        """Yield watch events (`{"type", "object"}`) until the server ends the stream."""
        params = {"watch": "true", "timeoutSeconds": str(timeout_seconds)}
        if resource_version:
            params["resourceVersion"] = resource_version
        if label_selector:
            params["labelSelector"] = label_selector
        async with self.session.get(
            self.base_url + path,
            params=params,
            headers={"Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=None, sock_read=timeout_seconds + 30),
        ) as response:
            if response.status >= 400:
                raise KubeError(response.status, await response.text())
            async for line in response.content:
                if line.strip():
                    event = json.loads(line)
                    if isinstance(event, dict):
                        yield event
