"""The exporter's XLSX, read back from S3 by openpyxl and by calamine, equals the database:
every cell typed, formatted and with its real text (formula triggers get quotePrefix)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from xlsx_readers import calamine_moment, excel_time, read_calamine, read_openpyxl

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


def export_all(run_exporter: Callable[..., Any], s3_client: Any, bucket: str) -> bytes:
    run = run_exporter(
        "--resource-type", "TRANSACTIONS", "--format", "xlsx", "--object-key", "all.xlsx"
    )
    assert run.returncode == 0, run.stderr
    body: bytes = s3_client.get_object(Bucket=bucket, Key="all.xlsx")["Body"].read()
    return body


def test_openpyxl_reads_the_database_rows_typed_and_formatted(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    sheet = read_openpyxl(export_all(run_exporter, s3_client, bucket), len(HEADER))

    header, *records = sheet.cells
    assert [c.value for c in header] == HEADER and all(c.bold for c in header)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter == "A1:H2001"
    assert sheet.widths == {"A": 10, "B": 20, "C": 12, "D": 10, "E": 11, "F": 30, "G": 44, "H": 12}
    rows = fetch_rows()
    assert len(records) == len(rows) == 2000
    for record, row in zip(records, rows, strict=True):
        ident, created, amount, currency, status, email, description, merchant = row
        c_id, c_created, c_amount, c_currency, c_status, c_email, c_description, c_merchant = record
        assert c_id.value == ident and c_id.data_type == "n"
        assert c_created.value == excel_time(created)
        assert c_created.number_format == "yyyy-mm-dd hh:mm:ss"
        assert c_amount.value == float(amount) and c_amount.number_format == "0.00"
        for cell, text in (
            (c_currency, currency),
            (c_status, status),
            (c_email, email),
            (c_description, description),
        ):
            assert cell.value == (text or None)
            assert cell.quote_prefix == bool(text and text.startswith(FORMULA_TRIGGERS))
        assert c_merchant.value == merchant


def test_calamine_reads_the_same_rows(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    header, *records = read_calamine(export_all(run_exporter, s3_client, bucket))

    assert header == HEADER
    rows = fetch_rows()
    assert len(records) == len(rows)
    for record, row in zip(records, rows, strict=True):
        ident, created, amount, currency, status, email, description, merchant = row
        assert record[0] == ident
        got = calamine_moment(record[1])
        assert abs(got - excel_time(created)) < dt.timedelta(microseconds=500)
        assert record[2] == float(amount)
        assert record[3:7] == [currency, status, email or "", description or ""]
        assert record[7] == ("" if merchant is None else merchant)
