"""Fixtures for the Kubernetes API stand-in's tests: a threaded server for sync clients
(kubernetes, kubectl, kopf) and an in-loop server with an aiohttp session for watches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import kubernetes.client
import pytest

from devstack.kubeapi import KubeAPIServer, ThreadedKubeAPI

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def crd_path() -> Path:
    return ROOT / "crds" / "exports.streamexport.io.yaml"


@pytest.fixture
def kubeapi(crd_path: Path) -> Iterator[ThreadedKubeAPI]:
    with ThreadedKubeAPI(crds=[crd_path]) as server:
        yield server


@pytest.fixture
def k8s(kubeapi: ThreadedKubeAPI) -> Iterator[kubernetes.client.ApiClient]:
    config = kubernetes.client.Configuration(host=kubeapi.url)
    with kubernetes.client.ApiClient(config) as client:
        yield client
        client.rest_client.pool_manager.clear()  # close sockets: no ResourceWarning


@pytest.fixture
async def api_server(crd_path: Path) -> AsyncIterator[KubeAPIServer]:
    async with KubeAPIServer(crds=[crd_path], history=50) as server:
        yield server


@pytest.fixture
async def http(api_server: KubeAPIServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=api_server.url) as session:
        yield session
