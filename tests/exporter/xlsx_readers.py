"""Two independent XLSX readers for the tests: openpyxl (Python, the reference) and calamine
(Rust, via python-calamine). Every XLSX the tests make is read back by both."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook


def as_sheet_holds(value: str) -> str:
    """`value` as a sheet holds it: what XML 1.0 cannot carry (controls other than TAB, LF
    and CR, and U+FFFE, U+FFFF) as U+FFFD."""
    return "".join(
        "\ufffd" if (ord(c) < 32 and c not in "\t\n\r") or c in "\ufffe\uffff" else c
        for c in value
    )


@dataclass(frozen=True)
class Cell:
    """What openpyxl's full (styled) reader sees in one cell."""

    value: Any
    data_type: str
    number_format: str
    quote_prefix: bool
    bold: bool


@dataclass(frozen=True)
class Sheet:
    cells: list[list[Cell]]
    freeze_panes: str | None
    auto_filter: str | None
    widths: dict[str, float]

    def values(self) -> list[tuple[Any, ...]]:
        return [tuple(cell.value for cell in row) for row in self.cells]


def read_openpyxl(body: bytes, width: int) -> Sheet:
    """Every cell of the first `width` columns, with its style, read by openpyxl."""
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    try:
        sheet = workbook.active
        cells = [
            [
                Cell(
                    value=c.value,
                    data_type=c.data_type,
                    number_format=c.number_format,
                    quote_prefix=bool(c.quotePrefix),
                    bold=bool(c.font.b),
                )
                for c in row
            ]
            for row in sheet.iter_rows(min_col=1, max_col=width)
        ]
        widths = {
            letter: dimension.width
            for letter, dimension in sheet.column_dimensions.items()
            if dimension.customWidth
        }
        return Sheet(cells, sheet.freeze_panes, sheet.auto_filter.ref, widths)
    finally:
        workbook.close()


def read_calamine(body: bytes) -> list[list[Any]]:
    """The first sheet's values as calamine sees them (numbers are floats, empty is '')."""
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
    try:
        rows: list[list[Any]] = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
        return rows
    finally:
        workbook.close()


def calamine_moment(value: Any) -> dt.datetime:
    """calamine returns a date for a datetime cell at midnight; make it a datetime again."""
    if isinstance(value, dt.datetime):
        return value
    assert isinstance(value, dt.date), value
    return dt.datetime(value.year, value.month, value.day)


def excel_time(value: dt.datetime) -> dt.datetime:
    """Naive UTC, truncated to milliseconds (Excel's resolution)."""
    naive = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    return naive.replace(microsecond=naive.microsecond // 1000 * 1000)
