"""The XLSX writer alone: rows in, a workbook file out (read back with openpyxl)."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from exporter.writers import write_xlsx, xlsx
from streamexport_core.catalog import Column

COLUMNS = (
    Column("id", "ID", "integer"),
    Column("at", "At", "timestamp"),
    Column("amount", "Amount", "decimal"),
    Column("note", "Note", "text"),
    Column("day", "Day", "date"),
    Column("ok", "OK", "boolean"),
)
PARIS = dt.timezone(dt.timedelta(hours=1))


def read(path: Path) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = workbook.active
        return [tuple(r) for r in sheet.iter_rows(values_only=True, max_col=len(COLUMNS))]
    finally:
        workbook.close()


def write_one(tmp_path: Path, row: tuple[Any, ...]) -> tuple[Any, ...]:
    path = tmp_path / "one.xlsx"
    assert write_xlsx(path, COLUMNS, [row]) == 1
    header, got = read(path)
    assert header == ("ID", "At", "Amount", "Note", "Day", "OK")
    return got


def test_values_are_typed(tmp_path: Path) -> None:
    got = write_one(
        tmp_path,
        (
            7,
            dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC),
            Decimal("-12.50"),
            "x",
            dt.date(2024, 2, 29),
            True,
        ),
    )

    assert got == (7, dt.datetime(2024, 5, 1, 12, 0), -12.5, "x", dt.datetime(2024, 2, 29), True)


def test_aware_timestamps_keep_their_wall_time_truncated_to_milliseconds(tmp_path: Path) -> None:
    # The session's TimeZone (the request's timeZone) decides the zone psycopg returns.
    at = dt.datetime(2024, 3, 31, 23, 59, 59, 999999, tzinfo=dt.UTC).astimezone(PARIS)

    got = write_one(tmp_path, (1, at, None, None, None, None))[1]

    assert abs(got - dt.datetime(2024, 4, 1, 0, 59, 59, 999000)) < dt.timedelta(microseconds=2)


@pytest.mark.parametrize("text", ["=1+1", '=HYPERLINK("http://x","y")', "#N/A", "#REF!"])
def test_text_is_never_a_formula_or_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "t.xlsx"

    write_xlsx(path, COLUMNS, [(1, None, None, text, None, None)])

    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and 't="e"' not in sheet
    assert read(path)[1][3] == text


def test_control_characters_xml_cannot_hold_are_replaced(tmp_path: Path) -> None:
    got = write_one(tmp_path, (1, None, None, "bell\x07 esc\x1b tab\t", None, None))

    assert got[3] == "bell\ufffd esc\ufffd tab\t"


def test_integers_beyond_15_digits_are_text(tmp_path: Path) -> None:
    assert write_one(tmp_path, (10**15, None, None, None, None, None))[0] == str(10**15)
    assert write_one(tmp_path, (10**15 - 1, None, None, None, None, None))[0] == 10**15 - 1


def test_nulls_are_empty_cells(tmp_path: Path) -> None:
    assert write_one(tmp_path, (None, None, None, None, None, None)) == (None,) * 6


def test_progress_callback_counts_rows(tmp_path: Path) -> None:
    calls: list[int] = []

    count = write_xlsx(
        tmp_path / "p.xlsx",
        COLUMNS,
        ((i, None, None, None, None, None) for i in range(25)),
        on_rows=calls.append,
        report_every=10,
    )

    assert count == 25 and calls == [10, 20]


def test_more_rows_than_a_sheet_holds_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "XLSX_MAX_ROWS", 3)

    with pytest.raises(ValueError, match="more than 3 rows"):
        write_xlsx(tmp_path / "big.xlsx", COLUMNS, [(i,) + (None,) * 5 for i in range(4)])
