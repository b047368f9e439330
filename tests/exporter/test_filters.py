"""Filters select exactly the expected rows, both date boundaries included (whole UTC days)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import openpyxl
import psycopg
import pytest

UTC = dt.UTC
EDGES = {
    90001: dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),  # the day before: out
    90002: dt.datetime(2024, 3, 1, 0, 0, 0, tzinfo=UTC),  # first instant: in
    90003: dt.datetime(2024, 3, 31, 23, 59, 59, 999999, tzinfo=UTC),  # last instant: in
    90004: dt.datetime(2024, 4, 1, 0, 0, 0, tzinfo=UTC),  # the day after: out
}


@pytest.fixture
def edge_rows(db: psycopg.Connection[Any]) -> None:
    with db.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO transactions (id, created_at, amount, currency, status)"
            " VALUES (%s, %s, 1.00, 'EUR', %s)",
            [(ident, at, "REFUNDED") for ident, at in EDGES.items()],
        )


def exported_ids(body: bytes, fmt: str) -> list[int]:
    if fmt == "csv":
        records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        return [int(record[0]) for record in records[1:]]
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        rows = workbook.active.iter_rows(min_row=2, max_col=1, values_only=True)
        return [int(row[0]) for row in rows]
    finally:
        workbook.close()


def export(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str, fmt: str, filters: Any
) -> list[int]:
    run = run_exporter(
        "--resource-type",
        "TRANSACTIONS",
        "--format",
        fmt,
        "--filters",
        json.dumps(filters),
        "--object-key",
        f"out.{fmt}",
    )
    assert run.returncode == 0, run.stderr
    assert run.result["rows"] > 0
    return exported_ids(s3_client.get_object(Bucket=bucket, Key=f"out.{fmt}")["Body"].read(), fmt)


@pytest.mark.usefixtures("edge_rows")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_date_range_includes_both_whole_days(
    fmt: str,
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    start, end = dt.datetime(2024, 3, 1, tzinfo=UTC), dt.datetime(2024, 4, 1, tzinfo=UTC)
    expected = [row[0] for row in fetch_rows() if start <= row[1] < end]

    ids = export(
        run_exporter, s3_client, bucket, fmt, {"startDate": "2024-03-01", "endDate": "2024-03-31"}
    )

    assert ids == expected
    assert 90002 in ids and 90003 in ids
    assert 90001 not in ids and 90004 not in ids


@pytest.mark.usefixtures("edge_rows")
def test_status_and_dates_combine(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    start, end = dt.datetime(2024, 3, 1, tzinfo=UTC), dt.datetime(2024, 4, 1, tzinfo=UTC)
    expected = [row[0] for row in fetch_rows() if start <= row[1] < end and row[4] == "REFUNDED"]
    filters = {"startDate": "2024-03-01", "endDate": "2024-03-31", "status": "REFUNDED"}

    ids = export(run_exporter, s3_client, bucket, "csv", filters)

    assert ids == expected
    assert len(expected) > 2


def test_a_single_day(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    day = dt.date(2024, 7, 4)
    expected = [row[0] for row in fetch_rows() if row[1].astimezone(UTC).date() == day]

    ids = export(
        run_exporter, s3_client, bucket, "csv", {"startDate": "2024-07-04", "endDate": "2024-07-04"}
    )

    assert ids == expected and expected
