"""CSV parsed back with the csv module equals the database rows, field by field."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from streamexport_core.sql import FORMULA_TRIGGERS

HEADER = [
    "ID",
    "Created At",
    "Amount",
    "Currency",
    "Status",
    "Customer Email",
    "Description",
    "Merchant ID",
]


def neutralised(value: str | None) -> str:
    """What the CSV holds for a text value: NULL is empty, formula triggers get a `'`."""
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def typed(record: list[str]) -> tuple[Any, ...]:
    ident, created, amount, currency, status, email, description, merchant = record
    return (
        int(ident),
        dt.datetime.fromisoformat(created),
        Decimal(amount),
        currency,
        status,
        email,
        description,
        int(merchant) if merchant else None,
    )


def test_csv_equals_the_database_rows_field_by_field(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    run = run_exporter("--resource-type", "TRANSACTIONS", "--object-key", "all.csv")

    assert run.returncode == 0, run.stderr
    body = s3_client.get_object(Bucket=bucket, Key="all.csv")["Body"].read().decode("utf-8")
    header, *records = parse(body)
    assert header == HEADER
    rows = fetch_rows()
    assert len(records) == len(rows) == 2000
    for record, row in zip(records, rows, strict=True):
        ident, created, amount, currency, status, email, description, merchant = row
        expected = (
            ident,
            created,
            amount,
            currency,
            status,
            neutralised(email),
            neutralised(description),
            merchant,
        )
        assert typed(record) == expected


def test_the_exported_fields_include_the_hostile_cases(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    run = run_exporter("--resource-type", "TRANSACTIONS", "--object-key", "all.csv")

    assert run.returncode == 0, run.stderr
    body = s3_client.get_object(Bucket=bucket, Key="all.csv")["Body"].read().decode("utf-8")
    fields = [field for record in parse(body)[1:] for field in record]
    for case in (",", '"', "\n", "\r\n", "é", "日本語", "🎉"):
        assert any(case in field for field in fields), case
    assert "" in fields
    for trigger in FORMULA_TRIGGERS:
        assert any(field.startswith("'" + trigger) for field in fields), repr(trigger)
