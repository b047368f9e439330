"""The catalog's second shape, INVOICES (a boolean, a date, a nullable decimal), in every
format, value for value the database's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import openpyxl
import psycopg

COLUMNS = "id, issued_at, due_date, paid, total, amount_refunded, status, customer_name"
FILTERS = json.dumps({"issuedFrom": "2024-02-01", "issuedTo": "2024-06-30"})


def database_rows(db: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return db.execute(
        f"SELECT {COLUMNS} FROM invoices WHERE issued_at >= '2024-02-01T00:00Z'"
        " AND issued_at < '2024-07-01T00:00Z' ORDER BY issued_at, id"
    ).fetchall()


def export(run_exporter: Callable[..., Any], s3_client: Any, bucket: str, fmt: str) -> bytes:
    run = run_exporter(
        "--resource-type", "INVOICES", "--format", fmt, "--filters", FILTERS,
        "--columns", COLUMNS.replace(" ", ""),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.result["fileName"] == f"invoices_2024-02-01_2024-06-30.{fmt}"
    data: bytes = s3_client.get_object(Bucket=bucket, Key=run.result["objectKey"])["Body"].read()
    return data


def test_demo_invoices_have_every_shape(db: psycopg.Connection[Any]) -> None:
    rows = database_rows(db)
    assert {row[3] for row in rows} == {True, False}
    assert {row[5] is None for row in rows} == {True, False}
    assert {row[7] for row in rows} >= {None, "", "=cmd|' /C calc'!A0"}


def test_csv(run_exporter: Callable[..., Any], s3_client: Any, bucket: str, db: Any) -> None:
    records = list(csv.reader(io.StringIO(export(run_exporter, s3_client, bucket, "csv").decode())))
    assert records[0] == [
        "Invoice", "Issued At", "Due Date", "Paid", "Total", "Refunded", "Status", "Customer",
    ]  # fmt: skip
    typed = [
        (
            int(r[0]),
            dt.datetime.fromisoformat(r[1]),
            dt.date.fromisoformat(r[2]),
            {"t": True, "f": False}[r[3]],
            Decimal(r[4]),
            Decimal(r[5]) if r[5] else None,
            r[6],
            r[7],
        )
        for r in records[1:]
    ]
    expected = [(*row[:7], "'" + row[7] if row[7] and row[7][0] in "=+" else row[7] or "")
                for row in database_rows(db)]  # fmt: skip
    assert typed == expected


def test_jsonl(run_exporter: Callable[..., Any], s3_client: Any, bucket: str, db: Any) -> None:
    lines = export(run_exporter, s3_client, bucket, "jsonl").decode().splitlines()
    objects = [json.loads(line, parse_float=Decimal) for line in lines]
    typed = [
        (
            o["id"],
            dt.datetime.fromisoformat(o["issued_at"]),
            dt.date.fromisoformat(o["due_date"]),
            o["paid"],
            o["total"] if isinstance(o["total"], Decimal) else Decimal(o["total"]),
            None if o["amount_refunded"] is None else Decimal(o["amount_refunded"]),
            o["status"],
            o["customer_name"],
        )
        for o in objects
    ]
    assert typed == database_rows(db)
    assert all(isinstance(o["paid"], bool) for o in objects)


def test_xlsx(run_exporter: Callable[..., Any], s3_client: Any, bucket: str, db: Any) -> None:
    data = export(run_exporter, s3_client, bucket, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    expected = database_rows(db)
    assert len(rows) == len(expected)
    for cells, row in zip(rows, expected, strict=True):
        # A row's trailing empty cells are not stored: pad them back.
        ident, issued, due, paid, total, refunded, status, _ = (*cells, None, None)[:8]
        assert ident == row[0]
        assert abs(issued - row[1].astimezone(dt.UTC).replace(tzinfo=None)) < dt.timedelta(
            milliseconds=1
        )
        assert isinstance(due, dt.datetime) and due.date() == row[2]
        assert paid is row[3]
        assert Decimal(str(total)) == row[4]
        assert (refunded is None) == (row[5] is None)
        assert refunded is None or Decimal(str(refunded)) == row[5]
        assert status == row[6]
