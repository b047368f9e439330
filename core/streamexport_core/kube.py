"""The one Kubernetes client library the API, the operator and the exporter use: lightkube.

Configured once here: `KUBERNETES_API_URL` names a plain server (the local stand-in,
`kubectl proxy`); without it lightkube finds the pod's service account (its token re-read
when the server answers 401, as client-go does), then `KUBECONFIG` or `~/.kube/config`.
Every request has a deadline (lightkube's httpx timeout, applied to connect, read, write and
pool wait alike). HTTP, TLS, auth and (de)serialisation are lightkube's; callers keep plain
dicts by using generic resources (`Export`) or the models' `to_dict()`.
"""

from __future__ import annotations

from typing import Any

import httpx2
from lightkube import AsyncClient, Client, ConfigError, KubeConfig
from lightkube.config.models import Cluster, User
from lightkube.generic_resource import GenericNamespacedResource, create_namespaced_resource

from streamexport_core.contract import GROUP, KIND, PLURAL, VERSION
from streamexport_core.errors import SettingsError

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "Export",
    "NetworkError",
    "async_client",
    "kube_config",
    "sync_client",
]

DEFAULT_TIMEOUT_SECONDS = 10.0
# What a call raises when the server did not answer in time or could not be reached; a
# Kubernetes `Status` answer is a `lightkube.ApiError` instead.
NetworkError = httpx2.TransportError

Export: type[GenericNamespacedResource] = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)

JSON = dict[str, Any]


def kube_config(api_url: str | None) -> KubeConfig:
    """`api_url` when given, else in-cluster, else the kubeconfig; `SettingsError` if none."""
    if api_url:
        # No credentials: a plain server (the stand-in, `kubectl proxy`) needs none.
        return KubeConfig.from_one(cluster=Cluster(server=api_url.rstrip("/")), user=User())
    try:
        return KubeConfig.from_env()
    except ConfigError as exc:
        raise SettingsError(
            "KUBERNETES_API_URL is not set, no in-cluster service account was found and"
            f" no kubeconfig could be read ({exc})"
        ) from None


def _timeout(seconds: float) -> httpx2.Timeout:
    if seconds <= 0:
        raise SettingsError("KUBERNETES_TIMEOUT_SECONDS must be positive")
    return httpx2.Timeout(seconds)


def async_client(
    api_url: str | None,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    field_manager: str | None = None,
) -> AsyncClient:
    """A lightkube `AsyncClient`; close it with `await client.close()`."""
    return AsyncClient(
        kube_config(api_url), timeout=_timeout(timeout_seconds), field_manager=field_manager
    )


def sync_client(
    api_url: str | None,
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    field_manager: str | None = None,
) -> Client:
    """A lightkube `Client` (blocking: for a thread of its own); close it with `close()`."""
    return Client(
        kube_config(api_url), timeout=_timeout(timeout_seconds), field_manager=field_manager
    )
