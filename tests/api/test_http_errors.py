"""Unknown routes and methods get the same JSON error shape; every response has a request id."""

from __future__ import annotations

from api_support import EXPORTS, USER_A, Client


async def test_unknown_route_is_json_404(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here", headers=USER_A)
    assert response.status == 404
    assert await response.json() == {
        "statusCode": 404,
        "message": "Cannot GET /api/v1/nothing-here",
        "error": "Not Found",
    }


async def test_unknown_method_is_json_405_with_allow(client: Client) -> None:
    response = await client.put(EXPORTS, json={}, headers=USER_A)
    assert response.status == 405
    assert response.headers["Allow"] == "GET, POST"
    assert (await response.json())["error"] == "Method Not Allowed"


async def test_request_id_is_echoed(client: Client) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"


async def test_request_id_is_made_when_missing_or_unsafe(client: Client) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "bad id\twith tab"})
    made = response.headers["X-Request-Id"]
    assert made != "bad id\twith tab"
    assert len(made) == 32


async def test_error_responses_carry_the_request_id(client: Client) -> None:
    response = await client.get(EXPORTS, headers={"X-Request-Id": "req-401"})
    assert response.status == 401
    assert response.headers["X-Request-Id"] == "req-401"
