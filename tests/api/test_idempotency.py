"""Idempotency-Key: a repeat (same user, same key, 24 h) returns the original export."""

from __future__ import annotations

import asyncio

from api_support import EXPORTS, USER_A, USER_B, VALID_BODY, Client

from devstack.kubeclient import Export, KubeClient

KEY = {"Idempotency-Key": "7d0b7f9e-2f7a-4f1e-9d4e-1b2c3d4e5f60"}


async def exports_in(kube: KubeClient, namespace: str) -> list[str]:
    return [e["metadata"]["name"] for e in await kube.list(Export, namespace=namespace)]


async def test_two_posts_with_one_key_create_one_export(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    first = await client.post(EXPORTS, json=VALID_BODY, headers={**USER_A, **KEY})
    second = await client.post(EXPORTS, json=VALID_BODY, headers={**USER_A, **KEY})
    assert (first.status, second.status) == (202, 202)
    assert await first.json() == await second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await exports_in(kube, namespace) == [(await first.json())["exportId"]]


async def test_concurrent_posts_with_one_key_create_one_export(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    responses = await asyncio.gather(
        *(client.post(EXPORTS, json=VALID_BODY, headers={**USER_A, **KEY}) for _ in range(5))
    )
    assert [r.status for r in responses] == [202] * 5
    assert len({(await r.json())["exportId"] for r in responses}) == 1
    assert len(await exports_in(kube, namespace)) == 1


async def test_same_key_with_another_body_is_422(client: Client) -> None:
    await client.post(EXPORTS, json=VALID_BODY, headers={**USER_A, **KEY})
    other = {**VALID_BODY, "format": "xlsx"}
    response = await client.post(EXPORTS, json=other, headers={**USER_A, **KEY})
    assert response.status == 422
    assert await response.json() == {
        "statusCode": 422,
        "message": "Idempotency-Key was already used with a different request body;"
        " use a new key for a new request",
        "error": "Unprocessable Entity",
    }


async def test_format_case_does_not_make_another_body(client: Client) -> None:
    first = await client.post(EXPORTS, json=VALID_BODY, headers={**USER_A, **KEY})
    lower = {**VALID_BODY, "format": "csv"}
    second = await client.post(EXPORTS, json=lower, headers={**USER_A, **KEY})
    assert (await second.json())["exportId"] == (await first.json())["exportId"]


async def test_one_key_from_two_users_makes_two_exports(client: Client) -> None:
    first = await client.post(EXPORTS, json=VALID_BODY, headers={**USER_A, **KEY})
    second = await client.post(EXPORTS, json=VALID_BODY, headers={**USER_B, **KEY})
    assert (await first.json())["exportId"] != (await second.json())["exportId"]


async def test_key_and_body_hash_are_stored_on_the_export(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    response = await client.post(EXPORTS, json=VALID_BODY, headers={**USER_A, **KEY})
    export_id = (await response.json())["exportId"]
    export = await kube.get(Export, export_id, namespace=namespace)
    key_hash = export["spec"]["idempotencyKey"]
    assert len(key_hash) == 64
    assert export["metadata"]["labels"]["streamexport.io/idempotency-key"] == key_hash[:63]
    assert len(export["spec"]["requestHash"]) == 64
