"""The request's options (columns, compression, csvBom, timeZone): recorded in the Export's
spec, answered in the GET body, and bad ones a 400 naming the field."""

from __future__ import annotations

from typing import Any

from api_support import EXPORTS, USER_A, VALID_BODY, Client

from devstack.kubeclient import Export, KubeClient

OPTIONS = {
    "columns": ["amount", "id", "created_at"],
    "compression": "gzip",
    "csvBom": True,
    "timeZone": "Europe/Berlin",
}


async def post_400(client: Client, body: Any) -> list[str]:
    response = await client.post(EXPORTS, json=body, headers=USER_A)
    assert response.status == 400, await response.text()
    return list((await response.json())["message"])


async def test_options_are_recorded_and_answered(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    response = await client.post(EXPORTS, json={**VALID_BODY, **OPTIONS}, headers=USER_A)
    assert response.status == 202
    export_id = (await response.json())["exportId"]

    export = await kube.get(Export, export_id, namespace=namespace)
    assert {k: export["spec"][k] for k in OPTIONS} == OPTIONS
    got = await (await client.get(f"{EXPORTS}/{export_id}", headers=USER_A)).json()
    assert {k: got[k] for k in OPTIONS} == OPTIONS


async def test_defaults_are_answered_but_not_recorded(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    response = await client.post(EXPORTS, json=VALID_BODY, headers=USER_A)
    export_id = (await response.json())["exportId"]

    export = await kube.get(Export, export_id, namespace=namespace)
    assert not set(OPTIONS) & set(export["spec"])
    got = await (await client.get(f"{EXPORTS}/{export_id}", headers=USER_A)).json()
    assert {k: got[k] for k in OPTIONS} == {
        "columns": None,
        "compression": "none",
        "csvBom": False,
        "timeZone": "UTC",
    }


async def test_jsonl_with_gzip_is_accepted(client: Client) -> None:
    body = {**VALID_BODY, "format": "JSONL", "compression": "gzip"}
    response = await client.post(EXPORTS, json=body, headers=USER_A)
    assert response.status == 202
    assert (await response.json())["format"] == "jsonl"


async def test_unknown_and_repeated_columns_are_named(client: Client) -> None:
    messages = await post_400(client, {**VALID_BODY, "columns": ["id", "iban", "id", "pin"]})
    assert messages == [
        "columns 'iban', 'pin' not a column of TRANSACTIONS (allowed: id, created_at, amount,"
        " currency, status, customer_email, description, merchant_id)",
        "columns 'id' given more than once",
    ]


async def test_bad_options_each_name_their_field(client: Client) -> None:
    body = {
        **VALID_BODY,
        "format": "xlsx",
        "columns": [],
        "compression": "gzip",
        "csvBom": True,
        "timeZone": "Europe/Atlantis",
    }
    assert await post_400(client, body) == [
        "columns must be a non-empty array of column names",
        "compression gzip applies to csv and jsonl only, not xlsx",
        "csvBom applies to csv only, not xlsx",
        "timeZone must be an IANA time zone name such as UTC or Europe/Berlin",
    ]


async def test_wrong_types_are_400s(client: Client) -> None:
    body = {**VALID_BODY, "columns": "id", "compression": "zip", "csvBom": "yes", "timeZone": 1}
    assert await post_400(client, body) == [
        "columns must be a non-empty array of column names",
        "compression must be one of the following values: none, gzip",
        "csvBom must be a boolean",
        "timeZone must be an IANA time zone name such as UTC or Europe/Berlin",
    ]


async def test_the_options_are_part_of_the_idempotent_request(client: Client) -> None:
    headers = {**USER_A, "Idempotency-Key": "options-1"}
    first = await client.post(EXPORTS, json=VALID_BODY, headers=headers)
    assert first.status == 202
    other = await client.post(EXPORTS, json={**VALID_BODY, "csvBom": True}, headers=headers)
    assert other.status == 422
    same = await client.post(EXPORTS, json={**VALID_BODY, "csvBom": False}, headers=headers)
    assert same.status == 202  # the default spelled out is the same request


async def test_parquet_compresses_itself(client: Client) -> None:
    body = {**VALID_BODY, "format": "parquet", "compression": "gzip"}
    assert await post_400(client, body) == [
        "compression gzip applies to csv and jsonl only, not parquet"
    ]
