"""Cells a spreadsheet would run as a formula: CSV gives them a leading `'`; XLSX keeps the
text as it is in a string cell with the quotePrefix style (never a formula, even when edited).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import psycopg
import pytest

HOSTILE = {
    80001: "=1+2",
    80002: '=HYPERLINK("http://evil.example","x")',
    80003: "+41 79 000 00 00",
    80004: "-2+3",
    80005: "@SUM(A1)",
    80006: "\tTAB first",
    80007: "\rCR first",
}
FILTERS = json.dumps({"startDate": "2025-01-01", "endDate": "2025-01-01"})


@pytest.fixture(autouse=True)
def hostile_rows(db: psycopg.Connection[Any]) -> None:
    with db.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO transactions"
            " (id, created_at, amount, currency, status, customer_email, description)"
            " VALUES (%s, '2025-01-01 12:00:00+00', 1, 'EUR', 'SETTLED', %s, %s)",
            [(ident, text, text) for ident, text in HOSTILE.items()] + [(80008, "#N/A", "#DIV/0!")],
        )


def export(run_exporter: Callable[..., Any], s3_client: Any, bucket: str, fmt: str) -> bytes:
    key = f"hostile.{fmt}"
    run = run_exporter(
        "--resource-type",
        "TRANSACTIONS",
        "--format",
        fmt,
        "--filters",
        FILTERS,
        "--object-key",
        key,
    )
    assert run.returncode == 0, run.stderr
    body: bytes = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def test_csv_cells_starting_with_a_formula_trigger_get_a_quote(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    body = export(run_exporter, s3_client, bucket, "csv")

    records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))[1:]
    by_id = {int(record[0]): record for record in records}
    for ident, text in HOSTILE.items():
        assert by_id[ident][5] == "'" + text  # Customer Email
        assert by_id[ident][6] == "'" + text  # Description
    assert by_id[80008][5:7] == ["#N/A", "#DIV/0!"]


def test_xlsx_cells_keep_their_text_with_the_quote_prefix_style_never_formulas(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    body = export(run_exporter, s3_client, bucket, "xlsx")

    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert 't="e"' not in sheet_xml
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    try:
        rows = {row[0].value: row for row in workbook.active.iter_rows(min_row=2)}
    finally:
        workbook.close()
    for ident, text in HOSTILE.items():
        for cell in rows[ident][5:7]:
            assert cell.data_type == "s"
            assert cell.value == text
            assert cell.quotePrefix
    for cell in rows[80008][5:7]:  # error-code look-alikes are plain strings
        assert cell.data_type == "s" and not cell.quotePrefix
    assert [cell.value for cell in rows[80008][5:7]] == ["#N/A", "#DIV/0!"]
    assert not any(cell.quotePrefix for cell in rows[80001][:5])
