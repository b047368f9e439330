"""Every kind of cell, rendered by PostgreSQL and zipped by the writer, read back by openpyxl
and by calamine and compared with the database: types, values, formats, hostile text."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from xlsx_readers import (
    as_sheet_holds,
    calamine_moment,
    excel_time,
    read_calamine,
    read_openpyxl,
)

from exporter.source import Snapshot
from exporter.writers import xlsx_package
from exporter.writers.xlsx_stream import write_xlsx
from streamexport_core.catalog import Resource, parse_catalog

HOSTILE = [
    'say "hi"',
    "a & b &amp; c",
    "<b>bold</b> <!-- x -->",
    "x ]]> y <![CDATA[z]]>",
    "line one\nline two",
    "windows\r\nline",
    "\rCR first",
    "Emoji 🎉💶 and 日本語の説明",
    "bell\x07 esc\x1b vt\x0b nul-ish\x01\x02 end",
    "non-characters \ufffe\uffff",
    "=1+2",
    '=HYPERLINK("http://evil.example","x")',
    "+41 79 000 00 00",
    "-2+3",
    "@SUM(A1)",
    "\tTAB first",
    "  padded both sides  ",
    " ",
    "'already quoted",
    "back\\slash \\N \\. tab\tinside",
    "#N/A",
    "",
    None,
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BIG = [
    999_999_999_999_999,
    10**15,
    -999_999_999_999_999,
    -(10**15),
    2**63 - 1,
    0,
    None,
]
AMOUNTS = [Decimal("791.9"), Decimal("-0.001"), Decimal("0"), Decimal("12345678.125"), None]
MOMENTS = [
    dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    dt.datetime(1950, 6, 15, 8, 30, 0, 123456, tzinfo=dt.UTC),
    dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.datetime(2038, 1, 19, 3, 14, 7, 1000, tzinfo=dt.UTC),
    None,
]
DAYS = [dt.date(2024, 2, 29), dt.date(1900, 3, 1), dt.date(9999, 12, 31), None]
FLAGS = [True, False, None]

CATALOG = {
    "resources": {
        "CELLS": {
            "table": "public.cells",
            "orderBy": ["n"],
            "columns": [
                {"name": "n", "label": "N", "type": "integer"},
                {"name": "big", "label": "Big <&>", "type": "integer", "width": 22},
                {"name": "amount", "label": "Amount", "type": "decimal", "scale": 3},
                {"name": "note", "label": "Note", "type": "text"},
                {"name": "code", "label": "Code", "type": "text", "formulaSafe": True},
                {"name": "at", "label": "At", "type": "timestamp"},
                {"name": "day", "label": "Day", "type": "date"},
                {"name": "ok", "label": "OK", "type": "boolean"},
            ],
        }
    }
}
CELLS: Resource = parse_catalog(CATALOG).get("CELLS")
WIDTH = len(CELLS.columns)


def row_values(i: int) -> tuple[Any, ...]:
    """Row `i`: every list cycled, so every value meets every other column's NULL."""
    return (
        i,
        BIG[i % len(BIG)],
        AMOUNTS[i % len(AMOUNTS)],
        HOSTILE[i % len(HOSTILE)],
        ("EUR", "USD", "", None)[i % 4],
        MOMENTS[i % len(MOMENTS)],
        DAYS[i % len(DAYS)],
        FLAGS[i % len(FLAGS)],
    )


ROWS = [row_values(i) for i in range(1, 3 * len(HOSTILE) + 1)]


@pytest.fixture
def cells_table(db: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    db.execute(
        "CREATE TABLE cells (n integer PRIMARY KEY, big bigint, amount numeric(14,3),"
        " note text, code char(3), at timestamptz, day date, ok boolean)"
    )
    with db.cursor() as cursor:
        cursor.executemany("INSERT INTO cells VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", ROWS)
    rows: list[tuple[Any, ...]] = db.execute("SELECT * FROM cells ORDER BY n").fetchall()
    return rows


def export(database_url: str, where: str | None = None) -> tuple[bytes, list[bytes]]:
    """The workbook and the lines of its sheet's rows, as finished from COPY's blocks."""
    styles = xlsx_package.styles(CELLS.columns)
    out = io.BytesIO()
    lines: list[bytes] = []
    with Snapshot(
        database_url, application_name="test-cells", statement_timeout=60, connect_timeout=5
    ) as snap:
        total = snap.count(CELLS, {})

        def keep(chunks: Any) -> Any:
            for chunk in chunks:
                assert chunk.endswith(b"\n")  # blocks of whole lines
                lines.extend(line + b"\n" for line in chunk.split(b"\n")[:-1])
                yield chunk

        rows = write_xlsx(
            out.write,
            CELLS.columns,
            total,
            keep(snap.copy_sheet_rows(CELLS, {}, styles.cells)),
            style_xml=styles.xml,
        )
        assert rows == total == snap.copied_rows
    return out.getvalue(), lines


def expected_text(value: str | None) -> str | None:
    return as_sheet_holds(value) if value else None


def test_copy_sends_exactly_one_well_formed_row_element_per_line(
    database_url: str, cells_table: list[tuple[Any, ...]]
) -> None:
    _, lines = export(database_url)

    assert len(lines) == len(cells_table)
    for line in lines:
        element = ET.fromstring(line)  # noqa: S314 (our own output, in a test)
        # No references: each row follows the last, each cell is the next column, and a
        # missing value is an empty <c/> that keeps the cells after it in their columns.
        assert element.tag == "row" and element.get("r") is None
        assert [cell.tag for cell in element] == ["c"] * WIDTH
        assert all(cell.get("r") is None for cell in element)


def test_openpyxl_reads_every_cell_as_the_database_holds_it(
    database_url: str, cells_table: list[tuple[Any, ...]]
) -> None:
    body, _ = export(database_url)
    sheet = read_openpyxl(body, WIDTH)

    header, *records = sheet.cells
    assert [c.value for c in header] == [
        "N",
        "Big <&>",
        "Amount",
        "Note",
        "Code",
        "At",
        "Day",
        "OK",
    ]
    assert len(records) == len(cells_table)
    for record, row in zip(records, cells_table, strict=True):
        n, big, amount, note, code, at, day, ok = row
        c_n, c_big, c_amount, c_note, c_code, c_at, c_day, c_ok = record
        assert c_n.value == n and c_n.data_type == "n"
        if big is None:
            assert c_big.value is None
        elif abs(big) < 10**15:
            assert c_big.value == big and c_big.data_type == "n"
        else:
            assert c_big.value == str(big) and c_big.data_type == "s"
        if amount is None:
            assert c_amount.value is None
        else:
            assert c_amount.value == pytest.approx(float(amount), abs=0)
            assert c_amount.number_format == "0.000"
        assert c_note.value == expected_text(note)
        if c_note.value is not None:
            assert c_note.data_type == "s"
            assert c_note.quote_prefix == note.startswith(TRIGGERS)
        # char(3): the padding goes, as in PostgreSQL's own cast to text
        assert c_code.value == ((code or "").rstrip() or None) and not c_code.quote_prefix
        if at is None:
            assert c_at.value is None
        else:
            assert c_at.value == excel_time(at)
            assert c_at.number_format == "yyyy-mm-dd hh:mm:ss"
        if day is None:
            assert c_day.value is None
        else:
            assert c_day.value == dt.datetime(day.year, day.month, day.day)
            assert c_day.number_format == "yyyy-mm-dd"
        assert c_ok.value is ok
        if ok is not None:
            assert c_ok.data_type == "b"


def test_calamine_reads_every_cell_as_the_database_holds_it(
    database_url: str, cells_table: list[tuple[Any, ...]]
) -> None:
    body, _ = export(database_url)
    header, *records = read_calamine(body)

    assert header == ["N", "Big <&>", "Amount", "Note", "Code", "At", "Day", "OK"]
    assert len(records) == len(cells_table)
    for record, row in zip(records, cells_table, strict=True):
        n, big, amount, note, code, at, day, ok = row
        c_n, c_big, c_amount, c_note, c_code, c_at, c_day, c_ok = record
        assert c_n == n
        if big is None:
            assert c_big == ""
        elif abs(big) < 10**15:
            assert isinstance(c_big, float) and c_big == big
        else:
            assert c_big == str(big)
        assert c_amount == ("" if amount is None else float(amount))
        assert c_note == (expected_text(note) or "")
        assert c_code == (code or "").rstrip()
        if at is None:
            assert c_at == ""
        else:
            got = calamine_moment(c_at)
            assert abs(got - excel_time(at)) < dt.timedelta(microseconds=500)
        if day is None:
            assert c_day == ""
        else:
            assert calamine_moment(c_day) == dt.datetime(day.year, day.month, day.day)
        assert c_ok == ("" if ok is None else ok)


def test_header_is_bold_frozen_filtered_and_columns_have_their_widths(
    database_url: str, cells_table: list[tuple[Any, ...]]
) -> None:
    body, _ = export(database_url)
    sheet = read_openpyxl(body, WIDTH)

    assert all(cell.bold and cell.data_type == "s" for cell in sheet.cells[0])
    assert not any(cell.bold for cell in sheet.cells[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter == f"A1:H{len(cells_table) + 1}"
    assert sheet.widths["B"] == 22  # from the catalog
    assert sheet.widths["A"] == 12 and sheet.widths["D"] == 24  # the type's default


def test_no_rows_is_a_header_only_sheet(database_url: str, db: psycopg.Connection[Any]) -> None:
    db.execute(
        "CREATE TABLE cells (n integer, big bigint, amount numeric, note text, code text,"
        " at timestamptz, day date, ok boolean)"
    )

    body, lines = export(database_url)

    assert lines == []
    sheet = read_openpyxl(body, WIDTH)
    assert len(sheet.cells) == 1 and sheet.auto_filter == "A1:H1"
    assert read_calamine(body) == [["N", "Big <&>", "Amount", "Note", "Code", "At", "Day", "OK"]]


ODD = parse_catalog(
    {
        "resources": {
            "ODD": {
                "table": "public.odd",
                "orderBy": ["n"],
                "columns": [
                    {"name": "n", "label": "N", "type": "integer"},
                    {"name": "amount", "label": "Amount", "type": "decimal", "scale": 2},
                    {"name": "at", "label": "At", "type": "timestamp"},
                ],
            }
        }
    }
).get("ODD")


def test_values_without_a_number_form_become_text_cells(
    database_url: str, db: psycopg.Connection[Any]
) -> None:
    db.execute("CREATE TABLE odd (n integer, amount numeric, at timestamptz)")
    db.execute(
        "INSERT INTO odd VALUES (1, 'NaN', 'infinity'), (2, 'Infinity', '-infinity'),"
        " (3, '-Infinity', NULL), (4, 1.5, '2024-01-01')"
    )
    styles = xlsx_package.styles(ODD.columns)
    out = io.BytesIO()
    with Snapshot(
        database_url, application_name="test-odd", statement_timeout=60, connect_timeout=5
    ) as snap:
        rows = snap.copy_sheet_rows(ODD, {}, styles.cells)
        write_xlsx(out.write, ODD.columns, 4, rows, style_xml=styles.xml)

    values = read_openpyxl(out.getvalue(), 3).values()
    assert values[1:] == [
        (1, "NaN", "infinity"),
        (2, "Infinity", "-infinity"),
        (3, "-Infinity", None),
        (4, 1.5, dt.datetime(2024, 1, 1)),
    ]
    assert read_calamine(out.getvalue())[1:] == [
        [1.0, "NaN", "infinity"],
        [2.0, "Infinity", "-infinity"],
        [3.0, "-Infinity", ""],
        [4.0, 1.5, dt.date(2024, 1, 1)],
    ]


def test_a_view_gives_the_same_cells_as_its_table(
    database_url: str, db: psycopg.Connection[Any], cells_table: list[tuple[Any, ...]]
) -> None:
    # A view declares no NOT NULL: every cell may then be missing, and is <c/> when it is.
    table_body, table_lines = export(database_url)
    db.execute("ALTER TABLE cells RENAME TO cells_table")
    db.execute("CREATE VIEW cells AS SELECT * FROM cells_table")

    view_body, view_lines = export(database_url)

    assert view_lines == table_lines
    assert read_openpyxl(view_body, WIDTH).values() == read_openpyxl(table_body, WIDTH).values()
    assert read_calamine(view_body) == read_calamine(table_body)


def test_not_null_columns_come_from_the_table_definition(
    database_url: str, db: psycopg.Connection[Any]
) -> None:
    db.execute("CREATE VIEW plain AS SELECT id, status FROM transactions")

    def entry(*table: str) -> Resource:
        return Resource("T", table, "t", CELLS.columns, {}, ("n",))

    with Snapshot(
        database_url, application_name="test-nn", statement_timeout=60, connect_timeout=5
    ) as snap:
        table = snap.not_null_columns(entry("public", "transactions"))
        view = snap.not_null_columns(entry("plain"))

    assert table == {"id", "created_at", "amount", "currency", "status", "merchant_id"}
    assert view == frozenset()
