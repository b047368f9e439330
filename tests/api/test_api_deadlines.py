"""Every outbound call of the API has a deadline: a PostgreSQL that stops answering (traffic
held by a fault proxy, as `kill -STOP` would) turns POST /api/v1/exports into a 503 with a
clear message within the count deadline, not a request that hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import EXPORTS, USER_A, VALID_BODY, MakeClient
from psycopg.conninfo import conninfo_to_dict

from devstack.faultproxy import FaultProxy

COUNT_TIMEOUT_MS = 1000


@pytest.fixture
def held_database(api_database_url: str) -> Iterator[tuple[FaultProxy, str]]:
    """A TCP proxy to the test database's unix socket, and a URL through it."""
    info = conninfo_to_dict(api_database_url)
    socket_dir = info.get("host") or "/tmp"  # noqa: S108 - libpq's default socket dir
    if not str(socket_dir).startswith("/"):
        pytest.skip("the database is not on a unix socket here")
    path = str(Path(str(socket_dir)) / f".s.PGSQL.{info.get('port') or 5432}")
    with FaultProxy(path) as proxy:
        url = f"postgresql://{info.get('user', 'postgres')}@127.0.0.1:{proxy.port}/{info['dbname']}"
        yield proxy, url


async def test_a_hung_database_is_a_503_within_the_deadline(
    make_client: MakeClient, held_database: tuple[FaultProxy, str]
) -> None:
    proxy, url = held_database
    client = await make_client(database_url=url, count_timeout_ms=COUNT_TIMEOUT_MS)
    warm = await client.post(EXPORTS, json=VALID_BODY, headers=USER_A)
    assert warm.status == 202, await warm.text()  # a pooled connection through the proxy

    proxy.hold()
    try:
        started = time.monotonic()
        response = await client.post(EXPORTS, json=VALID_BODY, headers=USER_A)
        elapsed = time.monotonic() - started
        body = await response.json()
    finally:
        proxy.release()
    assert response.status == 503, body
    assert "database" in body["message"].lower()
    # The count's own deadline plus a little: never the client's 90 s.
    assert elapsed < COUNT_TIMEOUT_MS / 1000 + 4, elapsed
