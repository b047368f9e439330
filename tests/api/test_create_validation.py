"""Bad POST bodies are a 400 naming the field and the reason, and create nothing."""

from __future__ import annotations

from typing import Any

from api_support import EXPORTS, USER_A, VALID_BODY, Client

from devstack.kubeclient import Export, KubeClient


async def post_400(client: Client, body: Any) -> list[str]:
    response = await client.post(EXPORTS, json=body, headers=USER_A)
    assert response.status == 400
    payload = await response.json()
    assert payload["statusCode"] == 400
    assert payload["error"] == "Bad Request"
    assert isinstance(payload["message"], list)
    return list(payload["message"])


async def test_unknown_field(client: Client) -> None:
    messages = await post_400(client, {**VALID_BODY, "priority": "high"})
    assert messages == ["property priority should not exist"]


async def test_unknown_resource_type(client: Client) -> None:
    messages = await post_400(client, {**VALID_BODY, "resourceType": "PAYOUTS"})
    assert messages == [
        "resourceType must be one of the following values: INVOICES, TRANSACTIONS"
    ]


async def test_missing_resource_type(client: Client) -> None:
    body = {"format": "csv", "filters": {}}
    assert await post_400(client, body) == ["resourceType should not be empty"]


async def test_unknown_filter(client: Client) -> None:
    messages = await post_400(client, {**VALID_BODY, "filters": {"merchant": 7}})
    assert messages == [
        "filters.merchant is not a filter of TRANSACTIONS"
        " (allowed: endDate, merchantId, startDate, status)"
    ]


async def test_malformed_date(client: Client) -> None:
    messages = await post_400(client, {**VALID_BODY, "filters": {"startDate": "2024-02-30"}})
    assert messages == ["filters.startDate must be a valid ISO 8601 date string (YYYY-MM-DD)"]


async def test_reversed_dates(client: Client) -> None:
    filters = {"startDate": "2024-03-01", "endDate": "2024-02-01"}
    messages = await post_400(client, {**VALID_BODY, "filters": filters})
    assert messages == ["filters.endDate must not be before filters.startDate"]


async def test_bad_format(client: Client) -> None:
    messages = await post_400(client, {**VALID_BODY, "format": "pdf"})
    assert messages == ["format must be one of the following values: csv, xlsx, jsonl, parquet"]


async def test_bad_enum_filter_value(client: Client) -> None:
    messages = await post_400(client, {**VALID_BODY, "filters": {"status": "settled"}})
    assert messages == [
        "filters.status must be one of the following values: PENDING, SETTLED, FAILED, REFUNDED"
    ]


async def test_every_problem_is_listed(client: Client) -> None:
    body = {"resourceType": "TRANSACTIONS", "format": "pdf", "filters": {"x": 1}, "y": 2}
    messages = await post_400(client, body)
    assert messages == [
        "property y should not exist",
        "format must be one of the following values: csv, xlsx, jsonl, parquet",
        "filters.x is not a filter of TRANSACTIONS"
        " (allowed: endDate, merchantId, startDate, status)",
    ]


async def test_non_json_body(client: Client) -> None:
    response = await client.post(
        EXPORTS,
        data=b'{"resourceType": "TRANSACTIONS",',
        headers={**USER_A, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert (await response.json())["message"] == ["body must be valid JSON (UTF-8)"]


async def test_non_object_body(client: Client) -> None:
    messages = await post_400(client, [VALID_BODY])
    assert messages == ["body must be a JSON object"]


async def test_empty_body(client: Client) -> None:
    response = await client.post(
        EXPORTS, data=b"", headers={**USER_A, "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["message"] == ["body must be a JSON object"]


async def test_wrong_content_type_is_415(client: Client) -> None:
    response = await client.post(EXPORTS, data="resourceType=TRANSACTIONS", headers=USER_A)
    assert response.status == 415
    assert await response.json() == {
        "statusCode": 415,
        "message": "Content-Type must be application/json",
        "error": "Unsupported Media Type",
    }


async def test_huge_body_is_413(client: Client) -> None:
    body = {**VALID_BODY, "filters": {"status": "S" * 200_000}}
    response = await client.post(EXPORTS, json=body, headers=USER_A)
    assert response.status == 413
    assert (await response.json())["statusCode"] == 413


async def test_malformed_idempotency_key(client: Client) -> None:
    headers = {**USER_A, "Idempotency-Key": "has spaces in it"}
    response = await client.post(EXPORTS, json=VALID_BODY, headers=headers)
    assert response.status == 400
    assert (await response.json())["message"] == [
        "Idempotency-Key must be 1 to 255 visible ASCII characters"
    ]


async def test_bad_input_creates_nothing(client: Client, kube: KubeClient, namespace: str) -> None:
    await post_400(client, {**VALID_BODY, "format": "pdf"})
    assert await kube.list(Export, namespace=namespace) == []
