"""A resource added by catalog data alone is validated, counted and described by the API."""

from __future__ import annotations

from pathlib import Path

import psycopg
import yaml
from api_support import EXPORTS, USER_A, MakeClient

from streamexport_core.catalog import DEFAULT_CATALOG_PATH

PAYOUTS = {
    "table": "public.api_payouts",
    "columns": [
        {"name": "id", "type": "integer"},
        {"name": "paid_on", "type": "date"},
        {"name": "instant", "type": "boolean"},
    ],
    "filters": {"paidFrom": {"column": "paid_on", "operator": "dateFrom", "type": "date"}},
}


async def test_a_third_resource_is_counted(
    make_client: MakeClient, api_database_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(api_database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS api_payouts AS SELECT i AS id,"
            " date '2024-01-01' + i AS paid_on, i % 2 = 0 AS instant"
            " FROM generate_series(1, 90) AS i"
        )
    document = yaml.safe_load(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))
    document["resources"]["PAYOUTS"] = PAYOUTS
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(document), encoding="utf-8")
    client = await make_client(catalog_path=str(catalog))

    body = {
        "resourceType": "PAYOUTS",
        "format": "jsonl",
        "filters": {"paidFrom": "2024-03-01"},  # ids 60..90
        "columns": ["instant", "id"],
    }
    response = await client.post(EXPORTS, json=body, headers=USER_A)
    assert response.status == 202, await response.text()
    assert (await response.json())["estimatedRowCount"] == 31

    document = await (await client.get("/api/v1/openapi.json")).json()
    request = document["components"]["schemas"]["CreateExportRequest"]["properties"]
    assert "PAYOUTS" in request["resourceType"]["enum"]
    assert "paid_on" in request["columns"]["items"]["enum"]
