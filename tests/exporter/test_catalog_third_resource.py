"""A new resource is a change to data only: a catalog written here, naming a table made here,
is counted and exported (CSV and JSON Lines) by the unchanged exporter."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from streamexport_core.catalog import DEFAULT_CATALOG_PATH

PAYOUTS = {
    "table": "public.payouts",
    "fileStem": "payouts",
    "orderBy": ["paid_on", "id"],
    "columns": [
        {"name": "id", "label": "Payout", "type": "integer"},
        {"name": "paid_on", "label": "Paid On", "type": "date"},
        {"name": "instant", "label": "Instant", "type": "boolean"},
        {"name": "fee", "label": "Fee", "type": "decimal"},
        {"name": "bank", "label": "Bank", "type": "text"},
    ],
    "filters": {
        "bank": {"column": "bank", "operator": "eq", "type": "text"},
    },
}


@pytest.fixture
def catalog(tmp_path: Path, db: psycopg.Connection[Any]) -> Path:
    db.execute(
        "CREATE TABLE payouts (id bigint PRIMARY KEY, paid_on date NOT NULL,"
        " instant boolean NOT NULL, fee numeric(8,3), bank text)"
    )
    db.execute(
        "INSERT INTO payouts SELECT i, date '2024-01-01' + i, i % 2 = 0,"
        " CASE WHEN i % 3 = 0 THEN NULL ELSE i / 8.0 END,"
        " (ARRAY['ACME', 'Zürich \"Bank\"'])[(i % 2) + 1] FROM generate_series(1, 250) AS i"
    )
    document = yaml.safe_load(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))
    document["resources"]["PAYOUTS"] = PAYOUTS
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_the_third_resource_counts_and_exports(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    db: psycopg.Connection[Any],
    catalog: Path,
) -> None:
    common = ("--catalog", str(catalog), "--resource-type", "PAYOUTS", "--scope", "")
    filters = ("--filters", json.dumps({"bank": "ACME"}))
    expected = db.execute(
        "SELECT id, paid_on::text, instant, fee::text FROM payouts WHERE bank = 'ACME'"
        " ORDER BY paid_on, id"
    ).fetchall()

    run = run_exporter(*common, *filters, "--columns", "id,paid_on,instant,fee")
    assert run.returncode == 0, run.stderr
    assert run.result["rows"] == len(expected) == 125
    assert run.result["fileName"] == "payouts_ACME.csv"
    body = s3_client.get_object(Bucket=bucket, Key=run.result["objectKey"])["Body"].read()
    records = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert records[0] == ["Payout", "Paid On", "Instant", "Fee"]
    assert [tuple(r) for r in records[1:]] == [
        (str(i), day, "t" if instant else "f", fee or "") for i, day, instant, fee in expected
    ]

    run = run_exporter(*common, *filters, "--format", "jsonl")
    assert run.returncode == 0, run.stderr
    body = s3_client.get_object(Bucket=bucket, Key=run.result["objectKey"])["Body"].read()
    objects = [json.loads(line) for line in body.decode("utf-8").splitlines()]
    assert [(o["id"], o["paid_on"], o["instant"]) for o in objects] == [
        (i, day, instant) for i, day, instant, _ in expected
    ]
    assert all(isinstance(o["instant"], bool) for o in objects)
