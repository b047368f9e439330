"""/healthz, /readyz (database and Kubernetes API) and /metrics."""

from __future__ import annotations

from api_support import EXPORTS, USER_A, Client, MakeClient
from polling import eventually


async def test_healthz(client: Client) -> None:
    response = await client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_readyz_when_everything_answers(client: Client) -> None:
    async def ready() -> bool:
        response = await client.get("/readyz")
        return response.status == 200

    # The export list is read at start-up, without holding the start-up up: poll for it.
    assert await eventually(ready, timeout=10.0)
    response = await client.get("/readyz")
    assert await response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "kubernetes": "ok", "exportCache": "ok"},
    }


async def test_readyz_names_an_unreachable_database(make_client: MakeClient) -> None:
    client = await make_client(database_url="postgresql://nobody@127.0.0.1:1/none")
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["message"] == "Not ready: database unavailable"
    assert body["checks"]["database"] == "unavailable"
    assert body["checks"]["kubernetes"] == "ok"


async def test_readyz_names_an_unreachable_kubernetes_api(make_client: MakeClient) -> None:
    client = await make_client(kubernetes_api_url="http://127.0.0.1:1")
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"] == {
        "database": "ok",
        "kubernetes": "unavailable",
        "exportCache": "syncing",
    }


async def test_unreachable_kubernetes_api_makes_a_get_503(make_client: MakeClient) -> None:
    client = await make_client(kubernetes_api_url="http://127.0.0.1:1")
    response = await client.get(f"{EXPORTS}/7f1c1a36-5d0e-4c55-9b9e-0a4c7f3b2d10", headers=USER_A)
    assert response.status == 503
    assert (await response.json())["message"] == (
        "The Kubernetes API is unavailable; try again later"
    )


async def test_metrics_count_requests_by_route_and_status(client: Client) -> None:
    await client.get(f"{EXPORTS}/not-a-uuid", headers=USER_A)
    text = await (await client.get("/metrics")).text()
    assert (
        'streamexport_api_requests_total{method="GET",route="/api/v1/exports/{export_id}",'
        'status="404"} 1.0'
    ) in text
    assert "streamexport_api_request_duration_seconds_bucket" in text
