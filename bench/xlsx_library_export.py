"""The usual way to write XLSX, for comparison: a library formats every cell in Python.

    python bench/xlsx_library_export.py openpyxl|xlsxwriter URL BUCKET KEY ENDPOINT FILTERS_JSON

The catalog's SELECT through a server-side cursor (5,000 rows a fetch), every row appended
to openpyxl's write-only workbook (with lxml) or to xlsxwriter's `constant_memory` one, with
what the exporter gives too: a bold frozen header, datetime/decimal formats, naive UTC
timestamps (both libraries refuse aware ones). Both write the sheet to a temporary file and
zip it on save; the file is then uploaded with boto3's `upload_file`. Prints the rows.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from devstack.services import s3_client
from streamexport_core import filters as request_filters
from streamexport_core import sql as export_sql
from streamexport_core.catalog import load_catalog
from streamexport_core.scope import Scope

ITERSIZE = 5000


def fetch(url: str, filters_json: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    # Every row, as the exporter's runs in bench_exporter (an unrestricted scope).
    resource = load_catalog().get("TRANSACTIONS").with_scope(
        Scope("merchant_id", "merchantId", unrestricted=True)
    )
    filters = request_filters.parse_filters(resource, json.loads(filters_json))
    select, params = export_sql.select_query(resource, filters, neutralise=False)

    def rows() -> Iterator[tuple[Any, ...]]:
        with psycopg.connect(url) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            with conn.cursor(name="bench") as cursor:
                cursor.itersize = ITERSIZE
                cursor.execute(select, params)
                for row in cursor:
                    yield tuple(
                        v.astimezone(dt.UTC).replace(tzinfo=None)
                        if isinstance(v, dt.datetime)
                        else v
                        for v in row
                    )

    return [c.label for c in resource.columns], rows()


def with_openpyxl(path: Path, labels: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for label in labels:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for ident, created, amount, *rest in rows:
        at = WriteOnlyCell(sheet, value=created)
        at.number_format = "yyyy-mm-dd hh:mm:ss"
        money = WriteOnlyCell(sheet, value=amount)
        money.number_format = "0.00"
        sheet.append([ident, at, money, *rest])
        count += 1
    workbook.save(path)
    return count


def with_xlsxwriter(path: Path, labels: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False}
    )
    sheet = workbook.add_worksheet("Export")
    sheet.freeze_panes(1, 0)
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    money = workbook.add_format({"num_format": "0.00"})
    sheet.write_row(0, 0, labels, bold)
    count = 0
    for count, (ident, created, amount, *rest) in enumerate(rows, start=1):
        sheet.write_number(count, 0, ident)
        sheet.write_datetime(count, 1, created, when)
        sheet.write_number(count, 2, float(amount), money)
        sheet.write_row(count, 3, rest)
    workbook.close()
    return count


def main(library: str, url: str, bucket: str, key: str, endpoint: str, filters: str) -> int:
    labels, rows = fetch(url, filters)
    write = with_openpyxl if library == "openpyxl" else with_xlsxwriter
    with tempfile.TemporaryDirectory(prefix="bench-xlsx-") as workdir:
        path = Path(workdir) / "export.xlsx"
        count = write(path, labels, rows)
        client = s3_client(endpoint)
        client.upload_file(str(path), bucket, key)
        client.close()
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))
