"""GET /api/v1/exports: newest first, pages of `limit` with an opaque continue token.

The list comes from the API's watched cache: a status written by the operator shows up once
its watch event arrives, so those tests poll (with a deadline) rather than read once.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_support import EXPORTS, USER_A, Client, create, set_status
from polling import eventually

from devstack.kubeclient import KubeClient

EVENT_DEADLINE = 10.0


async def list_page(client: Client, **params: str) -> Any:
    response = await client.get(EXPORTS, params=params, headers=USER_A)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_empty_list(client: Client) -> None:
    assert await list_page(client) == {"items": [], "continue": None}


async def test_items_are_newest_first(client: Client) -> None:
    ids = {await create(client, USER_A) for _ in range(3)}
    items = (await list_page(client))["items"]
    assert {item["id"] for item in items} == ids
    created = [item["createdAt"] for item in items]
    assert created == sorted(created, reverse=True)


async def test_pages_cover_every_export_once(client: Client) -> None:
    ids = {await create(client, USER_A) for _ in range(5)}
    seen: list[str] = []
    page = await list_page(client, limit="2")
    pages = 1
    while page["continue"] is not None:
        assert len(page["items"]) == 2
        seen += [item["id"] for item in page["items"]]
        page = await list_page(client, limit="2", **{"continue": page["continue"]})
        pages += 1
    seen += [item["id"] for item in page["items"]]
    assert pages == 3
    assert sorted(seen) == sorted(ids)


async def test_status_filter(client: Client, kube: KubeClient, namespace: str) -> None:
    queued = await create(client, USER_A)
    failed = await create(client, USER_A)
    await set_status(kube, namespace, failed, {"phase": "FAILED", "reason": "DeadlineExceeded"})

    async def ids(status: str) -> list[str]:
        return [i["id"] for i in (await list_page(client, status=status))["items"]]

    assert await eventually(lambda: _expect(ids("FAILED"), [failed]), timeout=EVENT_DEADLINE)
    assert await ids("QUEUED") == [queued]


async def test_list_items_carry_no_download_url(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    export_id = await create(client, USER_A)
    status = {
        "phase": "COMPLETED",
        "objectKey": "exports/x.csv",
        "expiresAt": "2099-01-01T00:00:00Z",
    }
    await set_status(kube, namespace, export_id, status)

    async def item() -> Any:
        (only,) = (await list_page(client))["items"]
        return only if only["status"] == "COMPLETED" else None

    assert (await eventually(item, timeout=EVENT_DEADLINE))["downloadUrl"] is None


async def _expect(actual: Any, expected: Any) -> bool:
    return bool(await actual == expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be an integer from 1 to 100"),
        ("limit=101", "limit must be an integer from 1 to 100"),
        ("limit=ten", "limit must be an integer from 1 to 100"),
        ("continue=%25%25%25", "continue must be a token returned by a previous list"),
        (
            "status=DONE",
            "status must be one of the following values: "
            "QUEUED, PROCESSING, COMPLETED, FAILED, CANCELLED",
        ),
        ("owner=me", "property owner should not exist"),
        ("limit=1&limit=2", "limit must be given at most once"),
    ],
)
async def test_bad_query_parameter_is_400(client: Client, query: str, message: str) -> None:
    response = await client.get(f"{EXPORTS}?{query}", headers=USER_A)
    assert response.status == 400
    assert message in (await response.json())["message"]
