"""Parquet read back with pyarrow: a typed schema from the catalog, value for value the
database's rows, for both shapes (TRANSACTIONS and INVOICES) and in a requested zone."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from exporter.writers.parquet import ROW_GROUP_ROWS


def export(run_exporter: Callable[..., Any], s3_client: Any, bucket: str, *args: str) -> Any:
    run = run_exporter("--format", "parquet", *args)
    assert run.returncode == 0, run.stderr
    response = s3_client.get_object(Bucket=bucket, Key=run.result["objectKey"])
    assert response["ContentType"] == "application/vnd.apache.parquet"
    assert run.result["fileName"].endswith(".parquet")
    return pq.ParquetFile(io.BytesIO(response["Body"].read())), run.result


def test_transactions(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    file, result = export(run_exporter, s3_client, bucket, "--resource-type", "TRANSACTIONS")

    assert file.schema_arrow == pa.schema(
        [
            ("id", pa.int64()),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("amount", pa.decimal128(38, 2)),
            ("currency", pa.string()),
            ("status", pa.string()),
            ("customer_email", pa.string()),
            ("description", pa.string()),
            ("merchant_id", pa.int64()),
        ]
    )
    table = file.read()
    rows = [tuple(r.values()) for r in table.to_pylist()]
    assert rows == fetch_rows()  # unneutralised text, exact decimals, the same instants
    assert len(rows) == result["rows"]


def test_invoices_in_a_zone(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str, db: psycopg.Connection[Any]
) -> None:
    filters = json.dumps({"issuedFrom": "2024-03-01", "issuedTo": "2024-03-31"})
    file, _ = export(
        run_exporter, s3_client, bucket,
        "--resource-type", "INVOICES", "--filters", filters, "--time-zone", "Europe/Paris",
        "--columns", "paid,due_date,amount_refunded,issued_at,id",
    )  # fmt: skip

    assert file.schema_arrow == pa.schema(
        [
            ("paid", pa.bool_()),
            ("due_date", pa.date32()),
            ("amount_refunded", pa.decimal128(38, 2)),
            ("issued_at", pa.timestamp("us", tz="Europe/Paris")),
            ("id", pa.int64()),
        ]
    )
    rows = [tuple(r.values()) for r in file.read().to_pylist()]
    expected = db.execute(
        "SELECT paid, due_date, amount_refunded, issued_at, id FROM invoices"
        " WHERE issued_at >= '2024-03-01T00:00Z' AND issued_at < '2024-04-01T00:00Z'"
        " ORDER BY issued_at, id"
    ).fetchall()
    assert rows == expected
    assert {r[2] is None for r in rows} == {True, False}
    assert isinstance(rows[0][3], dt.datetime) and str(rows[0][3].tzinfo) == "Europe/Paris"


def test_row_groups_are_bounded(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    file, result = export(run_exporter, s3_client, bucket, "--resource-type", "TRANSACTIONS")
    groups = [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)]
    assert sum(groups) == result["rows"]
    assert max(groups) <= ROW_GROUP_ROWS
