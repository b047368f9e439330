"""A small async client for the Export resource over the Kubernetes REST API (aiohttp).

The official `kubernetes` package blocks; the API must not block its event loop, and it
needs only four calls on one resource. In a pod it uses the service-account token (re-read
every minute, since the kubelet rotates it) and CA; elsewhere `KUBERNETES_API_URL`.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from api.errors import Unavailable
from api.settings import SERVICE_ACCOUNT_DIR, Settings, SettingsError
from streamexport_core.contract import export_api_path

log = logging.getLogger("api.kube")

REQUEST_TIMEOUT_SECONDS = 10.0
TOKEN_REREAD_SECONDS = 60.0

Manifest = dict[str, Any]


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
    def __init__(
        self,
        base_url: str,
        *,
        token_path: Path | None = None,
        ca_path: Path | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token_path = token_path
        self._ca_path = ca_path
        self._token: str | None = None
        self._token_read_at = float("-inf")
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KubeClient:
        """`KUBERNETES_API_URL` when set, else the in-cluster service host, token and CA."""
        token = SERVICE_ACCOUNT_DIR / "token"
        ca = SERVICE_ACCOUNT_DIR / "ca.crt"
        if settings.kubernetes_api_url:
            return cls(
                settings.kubernetes_api_url,
                token_path=token if token.exists() else None,
                ca_path=ca if ca.exists() else None,
            )
        host = os.environ.get("KUBERNETES_SERVICE_HOST")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host or not token.exists():
            raise SettingsError("KUBERNETES_API_URL is required when not running in a pod")
        if ":" in host:
            host = f"[{host}]"
        return cls(f"https://{host}:{port}", token_path=token, ca_path=ca)

    async def open(self) -> None:
        ssl_context: ssl.SSLContext | bool = True
        if self._ca_path is not None:
            ssl_context = ssl.create_default_context(cafile=str(self._ca_path))
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=ssl_context, limit=64),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _path(self, namespace: str, name: str | None = None) -> str:
        return export_api_path(
            quote(namespace, safe=""), None if name is None else quote(name, safe="")
        )

    async def create_export(self, namespace: str, manifest: Manifest) -> Manifest:
        return await self._request("POST", self._path(namespace), body=manifest)

    async def get_export(self, namespace: str, name: str) -> Manifest | None:
        try:
            return await self._request("GET", self._path(namespace, name))
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
        params: dict[str, str] = {}
        if label_selector:
            params["labelSelector"] = label_selector
        if limit is not None:
            params["limit"] = str(limit)
        if continue_token:
            params["continue"] = continue_token
        body = await self._request("GET", self._path(namespace), params=params, timeout=timeout)
        items = body.get("items") or []
        token = (body.get("metadata") or {}).get("continue") or None
        return Page(items=list(items), continue_token=token)

    async def patch_export(self, namespace: str, name: str, patch: Manifest) -> Manifest:
        """A JSON merge patch; a `metadata.resourceVersion` in it makes the write conditional."""
        return await self._request(
            "PATCH",
            self._path(namespace, name),
            body=patch,
            content_type="application/merge-patch+json",
        )

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        token = self._bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _bearer_token(self) -> str | None:
        if self._token_path is None:
            return None
        now = time.monotonic()
        if now - self._token_read_at > TOKEN_REREAD_SECONDS:
            try:
                self._token = self._token_path.read_text(encoding="utf-8").strip()
                self._token_read_at = now
            except OSError as exc:
                log.warning("cannot read the service-account token: %s", exc.strerror)
        return self._token

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        content_type: str | None = "application/json",
        timeout: float | None = None,
    ) -> Manifest:
        if self._session is None:
            raise RuntimeError("KubeClient.open() was not called")
        try:
            async with self._session.request(
                method,
                self._base + path,
                json=body,
                params=params,
                headers=self._headers(content_type if body is not None else None),
                timeout=aiohttp.ClientTimeout(total=timeout) if timeout else None,
            ) as response:
                payload = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("kubernetes api %s %s failed: %r", method, path, exc)
            raise Unavailable("The Kubernetes API is unavailable; try again later") from None
        if status < 400:
            if not isinstance(payload, dict):
                raise Unavailable("The Kubernetes API answered with a non-object body")
            return payload
        raise _error(status, payload, method, path)


def _error(status: int, payload: Any, method: str, path: str) -> Exception:
    reason = str(payload.get("reason", "")) if isinstance(payload, dict) else ""
    message = str(payload.get("message", "")) if isinstance(payload, dict) else ""
    if status >= 500 or status in (401, 403, 429):
        # Our credentials, RBAC, or the server itself: nothing the caller can fix.
        log.warning("kubernetes api %s %s: %s %s %s", method, path, status, reason, message)
        return Unavailable("The Kubernetes API is unavailable; try again later")
    if status == 409 and reason == "AlreadyExists":
        return AlreadyExists(status, reason, message)
    if status == 409:
        return Conflict(status, reason, message)
    return KubeError(status, reason, message)
