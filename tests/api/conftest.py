"""The API against real services: PostgreSQL, moto's S3 and the Kubernetes API stand-in.

PostgreSQL and S3 come from tests/conftest.py (`postgres_url`, `s3_server`, `s3_client`,
`bucket`); the stand-in (`devstack.kubeapi`) runs once per session on its own thread. Each
test gets its own Kubernetes namespace and S3 bucket, and an app built from settings that it
may adjust (`await make_client(max_export_rows=...)`).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from api_support import SECRET, Client, MakeClient
from scratchdb import scratch_database

from api.app import create_app
from api.settings import Settings
from devstack import demo_data
from devstack.kubeapi import ThreadedKubeAPI
from devstack.kubeclient import KubeClient
from devstack.services import DUMMY_CREDENTIALS, MotoThread, with_database
from streamexport_core.clock import Clock, system_clock

CRD = Path(__file__).resolve().parents[2] / "crds" / "exports.streamexport.io.yaml"
ROWS = 1000  # the API tests' transactions: 2024, evenly spread, ~2.7 rows a day


@pytest.fixture(scope="session", autouse=True)
def aws_credentials() -> Iterator[None]:
    """boto3 in the app reads credentials from the environment, as in a pod."""
    saved = {name: os.environ.get(name) for name in DUMMY_CREDENTIALS}
    os.environ.update(DUMMY_CREDENTIALS)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def api_database_url(postgres_url: str) -> Iterator[str]:
    """One database for every API test, with ROWS transactions: the API only reads it."""
    with scratch_database(postgres_url, "api_tests") as name:
        url = with_database(postgres_url, name)
        demo_data.load(url, ROWS)
        yield url


@pytest.fixture(scope="session")
def kube_url() -> Iterator[str]:
    with ThreadedKubeAPI(crds=[CRD]) as server:
        yield server.url


@pytest.fixture
async def kube(kube_url: str) -> AsyncIterator[KubeClient]:
    """A plain client of the stand-in, for what the operator would read and write."""
    async with KubeClient(kube_url) as client:
        yield client


@pytest.fixture
async def namespace(kube: KubeClient) -> str:
    name = f"t-{uuid.uuid4().hex[:12]}"
    await kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


@pytest.fixture
def settings(
    api_database_url: str, s3_server: MotoThread, kube_url: str, namespace: str, bucket: str
) -> Settings:
    return Settings(
        database_url=api_database_url,
        s3_bucket=bucket,
        s3_endpoint_url=s3_server.endpoint_url,
        jwt_secret=SECRET,
        kubernetes_api_url=kube_url,
        export_namespace=namespace,
        db_pool_min_size=0,
        db_pool_max_size=4,
    )


@pytest.fixture
async def make_client(settings: Settings) -> AsyncIterator[MakeClient]:
    """Start the real app (with setting overrides, and a clock: default the system's) behind
    aiohttp's test server."""
    clients: list[Client] = []

    async def make(clock: Clock = system_clock, **overrides: Any) -> Client:
        app = create_app(dataclasses.replace(settings, **overrides), clock=clock)
        client: Client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    return await make_client()
