"""Shared fixtures: a real PostgreSQL and a real S3 server (moto), isolated per test.

Session-scoped (started once):
- `postgres_url` -> str: libpq URL of the server's maintenance database: an embedded
  PostgreSQL 16 (pgserver, unix socket) or `$DATABASE_URL` when set.
- `database_template` -> str: name of a database holding the demo schema and
  `TEMPLATE_ROWS` deterministic demo transactions (`devstack.demo_data`); loaded once.
- `s3_server` -> `devstack.services.MotoThread`: moto's S3 server on 127.0.0.1 at a random
  port (`.endpoint_url`, `.host`, `.port`; `.stop()`/`.start()` keep its state).
- `s3_client` -> boto3 S3 client for `s3_server` (path-style, dummy credentials, us-east-1).

Per test:
- `database_url` -> str: URL of a fresh database cloned from the template (dropped after).
- `db` -> psycopg.Connection (autocommit) to `database_url`.
- `bucket` -> str: a fresh empty bucket on `s3_server` (emptied and deleted after).
- `service_env` -> dict[str, str]: os.environ plus DATABASE_URL, S3_ENDPOINT_URL,
  S3_BUCKET, AWS_* dummy credentials and region, and EXPORT_SCOPE granting every demo
  merchant (`ALL_MERCHANTS_SCOPE`: the packaged catalog scopes TRANSACTIONS): the
  environment for a subprocess (the exporter, the local Job runner) that uses this test's
  database and bucket.

A database of its own: `scratchdb.scratch_database(postgres_url, prefix)` (tests/scratchdb.py).
To load more rows into a test's database: `devstack.demo_data.load(database_url, n, drop=True)`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import extravenvs
import psycopg
import pytest
from scratchdb import scratch_database

from devstack import demo_data, services

TEMPLATE_ROWS = 2_000
# The row scope of every demo merchant: exports of the whole table.
ALL_MERCHANTS_SCOPE = json.dumps(
    {"column": "merchant_id", "claim": "merchantId", "values": list(demo_data.MERCHANTS)}
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with services.start_postgres() as server:
        yield server.url


@pytest.fixture(scope="session")
def database_template(postgres_url: str) -> Iterator[str]:
    with scratch_database(postgres_url, "streamexport_tpl") as name:
        demo_data.load(services.with_database(postgres_url, name), TEMPLATE_ROWS)
        yield name


@pytest.fixture
def database_url(postgres_url: str, database_template: str) -> Iterator[str]:
    with scratch_database(postgres_url, "streamexport_test", template=database_template) as name:
        yield services.with_database(postgres_url, name)


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def s3_server() -> Iterator[services.MotoThread]:
    with services.start_moto() as server:
        yield server


@pytest.fixture(scope="session")
def s3_client(s3_server: services.MotoThread) -> Iterator[Any]:
    client = services.s3_client(s3_server.endpoint_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def bucket(s3_client: Any) -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        services.empty_bucket(s3_client, name)
        s3_client.delete_bucket(Bucket=name)


@pytest.fixture
def service_env(database_url: str, s3_server: services.MotoThread, bucket: str) -> dict[str, str]:
    return {
        **os.environ,
        **services.DUMMY_CREDENTIALS,
        "AWS_REGION": services.REGION,
        "DATABASE_URL": database_url,
        "S3_ENDPOINT_URL": s3_server.endpoint_url,
        "S3_BUCKET": bucket,
        "EXPORT_SCOPE": ALL_MERCHANTS_SCOPE,
    }


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start building the per-extra venvs at once when their test is selected: it is half a
    minute of pip that then overlaps the other suites (tests/extravenvs.py)."""
    if any(item.nodeid.startswith("tests/layout/test_extras_alone.py") for item in session.items):
        extravenvs.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    extravenvs.stop()
