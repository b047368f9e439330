"""XLSX read back with openpyxl (read-only) equals the database, numbers and dates typed."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import openpyxl

from streamexport_core.sql import FORMULA_TRIGGERS

HEADER = (
    "ID",
    "Created At",
    "Amount",
    "Currency",
    "Status",
    "Customer Email",
    "Description",
    "Merchant ID",
)


def neutralised(value: str | None) -> str | None:
    """NULL and '' are both an empty cell; formula triggers get a leading `'`."""
    if not value:
        return None
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def read_sheet(body: bytes) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        sheet = workbook.active
        rows = sheet.iter_rows(values_only=True, max_col=len(HEADER))
        return [tuple(row) for row in rows]
    finally:
        workbook.close()


def excel_time(value: dt.datetime) -> dt.datetime:
    """Naive UTC, truncated to milliseconds (Excel's resolution)."""
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    return naive.replace(microsecond=naive.microsecond // 1000 * 1000)


def test_xlsx_equals_the_database_rows_with_types(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    run = run_exporter(
        "--resource-type", "TRANSACTIONS", "--format", "xlsx", "--object-key", "all.xlsx"
    )

    assert run.returncode == 0, run.stderr
    header, *records = read_sheet(
        s3_client.get_object(Bucket=bucket, Key="all.xlsx")["Body"].read()
    )
    assert header == HEADER
    rows = fetch_rows()
    assert len(records) == len(rows) == 2000
    for record, row in zip(records, rows, strict=True):
        ident, created, amount, currency, status, email, description, merchant = row
        got_id, got_created, got_amount, *got_text, got_merchant = record
        assert isinstance(got_id, int) and got_id == ident
        assert isinstance(got_created, dt.datetime)
        assert abs(got_created - excel_time(created)) < dt.timedelta(milliseconds=1)
        assert isinstance(got_amount, int | float) and got_amount == float(amount)
        assert got_text == [
            currency,
            status,
            neutralised(email),
            neutralised(description),
        ]
        assert got_merchant == merchant


def test_xlsx_dates_have_a_date_format_and_header_is_bold_and_frozen(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    run = run_exporter(
        "--resource-type", "TRANSACTIONS", "--format", "xlsx", "--object-key", "all.xlsx"
    )

    assert run.returncode == 0, run.stderr
    body = s3_client.get_object(Bucket=bucket, Key="all.xlsx")["Body"].read()
    workbook = openpyxl.load_workbook(io.BytesIO(body))  # full mode: styles and views
    try:
        sheet = workbook.active
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
        created = sheet.cell(row=2, column=2)
        assert created.is_date and created.number_format == "yyyy-mm-dd hh:mm:ss"
    finally:
        workbook.close()
