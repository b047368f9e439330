"""A Kubernetes API that does not answer is a 503 with a clear message within the deadline
(KUBERNETES_TIMEOUT_SECONDS), never a hung request; once it answers again, so does the API."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterator

import pytest
from aiohttp import ClientResponse
from api_support import EXPORTS, USER_A, VALID_BODY, MakeClient
from kubeapi_process import KubeAPIProcess

DEADLINE = 1.0
MARGIN = 2.0  # the COUNT before the create, and a loaded 2-core machine


@pytest.fixture
def kubeapi_process() -> Iterator[KubeAPIProcess]:
    with KubeAPIProcess() as api:
        yield api


async def timed(call: Awaitable[ClientResponse]) -> tuple[ClientResponse, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


async def test_a_paused_kubernetes_api_is_a_503_within_the_deadline(
    make_client: MakeClient, kubeapi_process: KubeAPIProcess
) -> None:
    client = await make_client(
        kubernetes_api_url=kubeapi_process.url,
        export_namespace="default",
        kubernetes_timeout_seconds=DEADLINE,
    )
    created = await client.post(EXPORTS, json=VALID_BODY, headers=USER_A)
    assert created.status == 202, await created.text()
    export_id = (await created.json())["exportId"]

    kubeapi_process.pause()
    try:
        for call in (
            client.post(EXPORTS, json=VALID_BODY, headers=USER_A),
            client.get(EXPORTS, headers=USER_A),
            client.get(f"{EXPORTS}/{export_id}", headers=USER_A),
        ):
            response, seconds = await timed(call)
            assert response.status == 503
            assert seconds < DEADLINE + MARGIN
            body = await response.json()
            assert body["error"] == "Service Unavailable"
            assert body["message"] == (
                "The Kubernetes API did not answer within 1 s; try again later"
            )
    finally:
        kubeapi_process.resume()

    again = await client.post(EXPORTS, json=VALID_BODY, headers=USER_A)
    assert again.status == 202, await again.text()
    listed = await client.get(EXPORTS, headers=USER_A)
    assert listed.status == 200
    got = await client.get(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert got.status == 200
