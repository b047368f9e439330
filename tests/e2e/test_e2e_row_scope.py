"""Whose rows: an export through the API, the operator, a Job and a download holds exactly the
rows its token's merchantId claim grants, every row checked against the database."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import urllib.request
from typing import Any

import psycopg
import pytest
from e2e_support import OPEN_RESOURCE, Client
from openpyxl import load_workbook

from devstack.stack import NAMESPACE, Stack
from streamexport_core.catalog import load_catalog
from streamexport_core.filters import parse_filters
from streamexport_core.scope import Scope
from streamexport_core.sql import copy_query

MARCH = {"startDate": "2024-03-01", "endDate": "2024-03-31"}
SCOPED = load_catalog().get("TRANSACTIONS")


@pytest.fixture(scope="module")
def merchant_1(stack: Stack) -> Client:
    return Client(stack, stack.token("m1", "m1@example.com", claims={"merchantId": 1}))


@pytest.fixture(scope="module")
def no_claim(stack: Stack) -> Client:
    return Client(stack, stack.token("anon", "anon@example.com"))


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - local moto
        return bytes(response.read())


def _kube(stack: Stack, path: str) -> Any:
    with urllib.request.urlopen(stack.kube_url + path, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _database_csv(stack: Stack, merchants: tuple[int, ...], filters: dict[str, str]) -> bytes:
    """What COPY gives for these merchants' rows, straight from the database."""
    resource = SCOPED.with_scope(Scope("merchant_id", "merchantId", merchants))
    query, params = copy_query(resource, parse_filters(resource, filters))
    buffer = bytearray()
    with psycopg.connect(stack.database_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        with conn.cursor().copy(query, params) as copy:
            for block in copy:
                buffer += block
    return bytes(buffer)


def _ids(stack: Stack, merchants: list[int] | None, filters: dict[str, str]) -> list[int]:
    """Independently of our SQL: the ids a plain query finds, in export order."""
    query = "SELECT id FROM transactions WHERE created_at >= %s::date AND created_at < %s::date + 1"
    params: list[Any] = [filters["startDate"], filters["endDate"]]
    if merchants is not None:
        query += " AND merchant_id = ANY(%s)"
        params.append(merchants)
    with psycopg.connect(stack.database_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        rows = conn.execute(query + " ORDER BY created_at, id", params).fetchall()
    return [row[0] for row in rows]


def test_a_merchants_export_holds_only_its_rows_and_counts_them(
    stack: Stack, merchant_1: Client
) -> None:
    export_id = merchant_1.create("csv", **MARCH)
    body = merchant_1.wait_final(export_id)
    assert body["status"] == "COMPLETED", body
    assert body["scope"] == {"column": "merchant_id", "claim": "merchantId", "values": [1]}

    data = _download(body["downloadUrl"])
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert {row["Merchant ID"] for row in rows} == {"1"}
    assert [int(row["ID"]) for row in rows] == _ids(stack, [1], MARCH)
    assert data == _database_csv(stack, (1,), MARCH)  # every cell of every row
    everyone = len(_ids(stack, None, MARCH))
    assert body["estimatedRowCount"] == body["actualRowCount"] == len(rows) < everyone

    spec = _kube(stack, f"/apis/streamexport.io/v1/namespaces/{NAMESPACE}/exports/{export_id}")
    assert spec["spec"]["scope"] == body["scope"]
    job = _kube(stack, f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{export_id}")
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert json.loads(env["EXPORT_SCOPE"]) == body["scope"]


def test_a_filter_naming_another_merchant_is_403(merchant_1: Client) -> None:
    status, body = merchant_1.call(
        "POST",
        "/api/v1/exports",
        {"resourceType": "TRANSACTIONS", "format": "csv", "filters": {**MARCH, "merchantId": 2}},
    )
    assert status == 403, body
    assert "filters.merchantId names 2" in body["message"]


def test_a_token_without_the_claim_is_403_naming_it(no_claim: Client) -> None:
    status, body = no_claim.call(
        "POST", "/api/v1/exports", {"resourceType": "TRANSACTIONS", "format": "csv", "filters": {}}
    )
    assert status == 403, body
    assert "'merchantId'" in body["message"]


def test_a_list_claim_exports_exactly_the_union(stack: Stack) -> None:
    user = Client(stack, stack.token("m23", "m23@example.com", claims={"merchantId": [2, 3]}))
    export_id = user.create("xlsx", **MARCH)
    body = user.wait_final(export_id)
    assert body["status"] == "COMPLETED", body
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(_download(body["downloadUrl"]))
        handle.flush()
        workbook = load_workbook(handle.name, read_only=True)
        try:
            rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
    header, *data = rows
    merchant = header.index("Merchant ID")
    assert {row[merchant] for row in data} == {2, 3}
    union = _ids(stack, [2, 3], MARCH)
    assert [row[0] for row in data] == union
    assert sorted(union) == sorted(_ids(stack, [2], MARCH) + _ids(stack, [3], MARCH))
    assert body["estimatedRowCount"] == body["actualRowCount"] == len(data)


def test_an_open_resource_serves_any_token_and_is_logged_as_open(
    stack: Stack, no_claim: Client
) -> None:
    export_id = no_claim.create("csv", resource_type=OPEN_RESOURCE, **MARCH)
    body = no_claim.wait_final(export_id)
    assert body["status"] == "COMPLETED", body
    assert body["scope"] is None
    rows = list(csv.DictReader(io.StringIO(_download(body["downloadUrl"]).decode(), newline="")))
    assert [int(row["ID"]) for row in rows] == _ids(stack, None, MARCH)

    api_log = (stack.config.root / "logs" / "api.log").read_text(encoding="utf-8")
    assert f'"open_resources": "{OPEN_RESOURCE}"' in api_log
    pod_logs = [
        path.read_text(encoding="utf-8")
        for path in (stack.config.root / "pods").rglob("container.log")
    ]
    (exporter_log,) = [text for text in pod_logs if export_id in text and "export_started" in text]
    assert f"event=catalog_open_resources resources={OPEN_RESOURCE}" in exporter_log
