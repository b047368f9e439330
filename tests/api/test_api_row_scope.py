"""POST counts only the rows the token's claim grants, records that scope, and refuses (403)
a token without the claim or a filter that names another tenant."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from api_support import EXPORTS, VALID_BODY, Client, MakeClient, auth

from api.app import create_app
from api.settings import Settings, SettingsError
from devstack.kubeclient import Export, KubeClient
from streamexport_core.catalog import DEFAULT_CATALOG_PATH

ALL_ROWS = {"resourceType": "TRANSACTIONS", "format": "csv", "filters": {}}
MERCHANT_2 = auth("m2-user", claims={"merchantId": 2})


def _count(url: str, merchants: list[int], status: str | None = None) -> int:
    query = "SELECT count(*) FROM transactions WHERE merchant_id = ANY(%s)"
    params: list[Any] = [merchants]
    if status is not None:
        query += " AND status = %s"
        params.append(status)
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


async def _post(client: Client, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    response = await client.post(EXPORTS, json=ALL_ROWS if body is None else body, headers=headers)
    return response.status, await response.json()


async def test_the_count_and_the_spec_hold_only_the_claims_merchant(
    client: Client, kube: KubeClient, namespace: str, api_database_url: str
) -> None:
    status, body = await _post(client, MERCHANT_2)
    assert status == 202, body
    expected = _count(api_database_url, [2])
    assert 0 < expected < 1000 and body["estimatedRowCount"] == expected
    export = await kube.get(Export, body["exportId"], namespace=namespace)
    scope = {"column": "merchant_id", "claim": "merchantId", "values": [2]}
    assert export["spec"]["scope"] == scope
    shown = await (await client.get(f"{EXPORTS}/{body['exportId']}", headers=MERCHANT_2)).json()
    assert shown["scope"] == scope


async def test_a_list_claim_counts_the_union(client: Client, api_database_url: str) -> None:
    status, body = await _post(client, auth("m13", claims={"merchantId": [1, 3]}))
    assert status == 202, body
    assert body["estimatedRowCount"] == _count(api_database_url, [1, 3])


async def test_a_token_without_the_claim_is_403_naming_it(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    status, body = await _post(client, auth("nobody", claims={}))
    assert (status, body["error"]) == (403, "Forbidden")
    assert "'merchantId'" in body["message"] and "TRANSACTIONS" in body["message"]
    assert await kube.list(Export, namespace=namespace) == []


@pytest.mark.parametrize("claim", ["2", True, [], [2, "x"], {"id": 2}])
async def test_a_claim_of_the_wrong_type_is_403(client: Client, claim: Any) -> None:
    status, body = await _post(client, auth("odd", claims={"merchantId": claim}))
    assert status == 403, body
    assert body["message"].startswith("Token claim 'merchantId' must")


async def test_a_filter_naming_another_merchant_is_403_not_an_empty_export(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    other = {**ALL_ROWS, "filters": {"merchantId": 3}}
    status, body = await _post(client, MERCHANT_2, other)
    assert status == 403
    assert body["message"] == (
        "filters.merchantId names 3, which the token's 'merchantId' claim does not grant"
    )
    assert await kube.list(Export, namespace=namespace) == []


async def test_a_filter_may_narrow_a_list_claim(client: Client, api_database_url: str) -> None:
    narrowed = {**ALL_ROWS, "filters": {"merchantId": 3, "status": "SETTLED"}}
    status, body = await _post(client, auth("m13", claims={"merchantId": [1, 3]}), narrowed)
    assert status == 202, body
    assert body["estimatedRowCount"] == _count(api_database_url, [3], "SETTLED")


async def test_an_admin_needs_the_claim_unless_the_setting_lifts_the_scope(
    make_client: MakeClient, kube: KubeClient, namespace: str
) -> None:
    admin = auth("root", roles=("SUPER_ADMIN",), claims={})
    status, body = await _post(await make_client(), admin)
    assert status == 403, body

    lifted = await make_client(admin_unscoped_resources=frozenset({"TRANSACTIONS"}))
    status, body = await _post(lifted, admin, VALID_BODY)
    assert status == 202, body
    export = await kube.get(Export, body["exportId"], namespace=namespace)
    assert export["spec"]["scope"] == {
        "column": "merchant_id",
        "claim": "merchantId",
        "unrestricted": True,
    }
    status, body = await _post(lifted, auth("user", claims={}))  # only admins
    assert status == 403


def test_the_setting_is_read_and_checked_against_the_catalog(settings: Settings) -> None:
    env = {
        "DATABASE_URL": "postgresql://x",
        "S3_BUCKET": "b",
        "JWT_SECRET": "s" * 32,
        "ADMIN_UNSCOPED_RESOURCES": " TRANSACTIONS, ",
    }
    assert Settings.from_env(env).admin_unscoped_resources == {"TRANSACTIONS"}
    assert Settings.from_env({**env, "ADMIN_UNSCOPED_RESOURCES": ""}).admin_unscoped_resources == (
        frozenset()
    )
    with pytest.raises(SettingsError, match="ADMIN_UNSCOPED_RESOURCES names NOPE, not in"):
        create_app(Settings(**{**vars(settings), "admin_unscoped_resources": frozenset({"NOPE"})}))


async def test_an_open_resource_is_logged_at_start_up_and_serves_everyone(
    make_client: MakeClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    document = yaml.safe_load(DEFAULT_CATALOG_PATH.read_text())
    open_copy = dict(document["resources"]["TRANSACTIONS"])
    del open_copy["scope"]
    document["resources"]["OPEN_TRANSACTIONS"] = open_copy
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document))
    with caplog.at_level(logging.WARNING, logger="api"):
        client = await make_client(catalog_path=str(path))
    (line,) = [r for r in caplog.records if getattr(r, "open_resources", None)]
    assert line.open_resources == "OPEN_TRANSACTIONS"  # type: ignore[attr-defined]

    status, body = await _post(
        client, auth("nobody", claims={}), {**ALL_ROWS, "resourceType": "OPEN_TRANSACTIONS"}
    )
    assert status == 202 and body["estimatedRowCount"] == 1000
    status, _ = await _post(client, auth("nobody", claims={}))
    assert status == 403  # TRANSACTIONS itself stays scoped


async def test_the_created_exports_log_line_names_its_scope(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="api"):
        status, _ = await _post(client, auth("m13", claims={"merchantId": [1, 3]}))
    assert status == 202
    (line,) = [r for r in caplog.records if r.getMessage() == "export created"]
    assert line.scope == "merchant_id=1,3"  # type: ignore[attr-defined]


async def test_a_keyed_repeat_from_a_token_granting_other_rows_is_not_a_replay(
    client: Client,
) -> None:
    key = {"Idempotency-Key": "scope-key-1"}
    first = await client.post(EXPORTS, json=ALL_ROWS, headers={**MERCHANT_2, **key})
    assert first.status == 202
    same = await client.post(EXPORTS, json=ALL_ROWS, headers={**MERCHANT_2, **key})
    assert same.status == 202
    assert (await same.json())["exportId"] == (await first.json())["exportId"]
    widened = auth("m2-user", claims={"merchantId": [2, 3]})
    other = await client.post(EXPORTS, json=ALL_ROWS, headers={**widened, **key})
    assert other.status == 422
