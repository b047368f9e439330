"""The request's options in the exporter: the columns in the requester's order, timestamps in
the requested zone (date filters still whole UTC days), and bad options refused (exit 2)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import psycopg

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = {"startDate": "2024-01-10", "endDate": "2024-01-10"}


def export(run_exporter: Callable[..., Any], fmt: str, *args: str) -> Any:
    run = run_exporter("--resource-type", "TRANSACTIONS", "--format", fmt, *args)
    assert run.returncode == 0, run.stderr
    return run.result


def text(s3_client: Any, bucket: str, key: str) -> str:
    data: bytes = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data.decode("utf-8")


def utc_day_rows(db: psycopg.Connection[Any]) -> list[tuple[int, dt.datetime]]:
    return db.execute(
        "SELECT id, created_at FROM transactions WHERE created_at >= '2024-01-10T00:00Z'"
        " AND created_at < '2024-01-11T00:00Z' ORDER BY created_at, id"
    ).fetchall()


def test_columns_in_the_requested_order(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    result = export(run_exporter, "csv", "--columns", "status,id,amount")

    records = list(csv.reader(io.StringIO(text(s3_client, bucket, result["objectKey"]))))
    assert records[0] == ["Status", "ID", "Amount"]
    assert all(len(record) == 3 for record in records)
    assert len(records) - 1 == result["rows"]


def test_csv_timestamps_in_the_zone_but_filters_on_utc_days(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str, db: psycopg.Connection[Any]
) -> None:
    result = export(
        run_exporter,
        "csv",
        "--columns",
        "id,created_at",
        "--time-zone",
        "Asia/Tokyo",
        "--filters",
        json.dumps(DAY),
    )

    records = list(csv.reader(io.StringIO(text(s3_client, bucket, result["objectKey"]))))[1:]
    expected = utc_day_rows(db)
    assert expected, "the demo data has rows on that day"
    assert [int(r[0]) for r in records] == [ident for ident, _ in expected]
    for (_, cell), (_, created) in zip(records, expected, strict=True):
        assert cell.endswith("+09")
        assert dt.datetime.fromisoformat(cell) == created  # the same instant
        assert cell[:19] == created.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S")


def test_jsonl_timestamps_are_rfc3339_in_the_zone(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str, db: psycopg.Connection[Any]
) -> None:
    result = export(
        run_exporter,
        "jsonl",
        "--time-zone",
        "America/New_York",
        "--columns",
        "created_at,id",
        "--filters",
        json.dumps(DAY),
    )

    lines = text(s3_client, bucket, result["objectKey"]).splitlines()
    objects = [json.loads(line) for line in lines]
    assert [list(o) for o in objects[:1]] == [["created_at", "id"]]
    expected = utc_day_rows(db)
    assert [(o["id"], dt.datetime.fromisoformat(o["created_at"])) for o in objects] == expected
    assert all(o["created_at"].endswith("-05:00") for o in objects)  # EST in January


def test_unknown_and_repeated_columns_are_refused(run_exporter: Callable[..., Any]) -> None:
    run = run_exporter("--resource-type", "TRANSACTIONS", "--columns", "id,nope,id")

    assert run.returncode == 2
    failure = run.stderr
    assert "'nope'" in failure and "'id' given more than once" in failure


def test_unknown_time_zone_is_refused(run_exporter: Callable[..., Any]) -> None:
    run = run_exporter("--resource-type", "TRANSACTIONS", "--time-zone", "Mars/Olympus")

    assert run.returncode == 2
    assert "timeZone must be an IANA time zone name" in run.stderr


def test_xlsx_dates_are_typed_wall_times_in_the_zone(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str, db: psycopg.Connection[Any]
) -> None:
    result = export(
        run_exporter,
        "xlsx",
        "--time-zone",
        "Asia/Tokyo",
        "--columns",
        "id,created_at",
        "--filters",
        json.dumps(DAY),
    )

    data = s3_client.get_object(Bucket=bucket, Key=result["objectKey"])["Body"].read()
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    cells = [tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    expected = utc_day_rows(db)
    assert [ident for ident, _ in cells] == [ident for ident, _ in expected]
    for (_, cell), (_, created) in zip(cells, expected, strict=True):
        assert isinstance(cell, dt.datetime)  # a typed date cell, not text
        wall = created.astimezone(TOKYO).replace(tzinfo=None)
        assert abs(cell - wall) < dt.timedelta(milliseconds=1)
