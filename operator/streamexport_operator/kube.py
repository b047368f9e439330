"""A small asyncio Kubernetes REST client for the few calls the operator makes beyond kopf's.

Plain aiohttp on the event loop (never a blocking client): `KUBERNETES_API_URL` when set
(a local stand-in, or `kubectl proxy`), else the pod's service account, re-reading the token
file so that rotated bound tokens keep working.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from streamexport_operator.exports import API_VERSION, PLURAL
from streamexport_operator.settings import SettingsError

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
JSON = dict[str, Any]


class KubeError(Exception):
    """A non-2xx answer from the API server, with its `Status` reason and message."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.reason = str(body.get("reason") or "") if isinstance(body, dict) else ""
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"HTTP {status}: {message}")


@dataclass(frozen=True)
class Endpoint:
    """Where the API server is and how to authenticate to it."""

    server: str
    token_path: Path | None = None
    ca_path: Path | None = None

    @classmethod
    def detect(cls, url: str | None) -> Endpoint:
        if url:
            return cls(server=url.rstrip("/"))
        host = os.environ.get("KUBERNETES_SERVICE_HOST")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host or not (SERVICE_ACCOUNT / "token").exists():
            raise SettingsError(
                "KUBERNETES_API_URL is not set and no in-cluster service account was found"
            )
        host = f"[{host}]" if ":" in host else host
        return cls(
            server=f"https://{host}:{port}",
            token_path=SERVICE_ACCOUNT / "token",
            ca_path=SERVICE_ACCOUNT / "ca.crt",
        )


def path_of(api_version: str, plural: str, namespace: str, name: str | None = None) -> str:
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    path = f"{base}/namespaces/{namespace}/{plural}"
    return f"{path}/{name}" if name else path


def export_path(namespace: str, name: str) -> str:
    return path_of(API_VERSION, PLURAL, namespace, name)


def job_path(namespace: str, name: str | None = None) -> str:
    return path_of("batch/v1", "jobs", namespace, name)


def pods_path(namespace: str) -> str:
    return path_of("v1", "pods", namespace)


class KubeClient:
    """`async with KubeClient(endpoint) as kube:`; every call returns parsed JSON."""

    def __init__(self, endpoint: Endpoint, *, timeout: float = 30.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> KubeClient:
        ssl_context: ssl.SSLContext | bool = True
        if self.endpoint.ca_path is not None and self.endpoint.ca_path.exists():
            ssl_context = ssl.create_default_context(cafile=str(self.endpoint.ca_path))
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=ssl_context),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self, content_type: str) -> dict[str, str]:
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.endpoint.token_path is not None:
            token = self.endpoint.token_path.read_text().strip()
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> JSON:
        assert self._session is not None, "use `async with KubeClient(...)`"
        data = None if body is None else json.dumps(body)
        async with self._session.request(
            method,
            self.endpoint.server + path,
            data=data,
            params=params,
            headers=self._headers(content_type),
        ) as response:
            text = await response.text()
            try:
                payload = json.loads(text) if text else {}
            except ValueError:
                payload = {"message": text[:200]}
            if response.status >= 400:
                raise KubeError(response.status, payload)
            return payload if isinstance(payload, dict) else {"items": payload}

    async def get(self, path: str) -> JSON | None:
        """The object, or None when it does not exist."""
        try:
            return await self.request("GET", path)
        except KubeError as error:
            if error.status == 404:
                return None
            raise

    async def list(self, path: str, *, label_selector: str | None = None) -> list[JSON]:
        params = {"labelSelector": label_selector} if label_selector else None
        items = (await self.request("GET", path, params=params)).get("items") or []
        return [item for item in items if isinstance(item, dict)]

    async def create(self, path: str, body: Mapping[str, Any]) -> JSON | None:
        """The created object, or None when one of that name already exists."""
        try:
            return await self.request("POST", path, body=dict(body))
        except KubeError as error:
            if error.status == 409 and error.reason in ("AlreadyExists", ""):
                return None
            raise

    async def merge_patch(self, path: str, patch: Mapping[str, Any]) -> JSON:
        return await self.request(
            "PATCH", path, body=dict(patch), content_type="application/merge-patch+json"
        )

    async def delete(self, path: str, *, propagation: str = "Background") -> bool:
        """Delete; False when it was already gone."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        try:
            await self.request("DELETE", path, body=body)
        except KubeError as error:
            if error.status == 404:
                return False
            raise
        return True
