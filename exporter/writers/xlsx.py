"""XLSX: typed rows to a file with openpyxl's write-only workbook (streamed, memory-flat).

Cells are typed from the catalog: integer and decimal columns are numbers, timestamps are
dates (naive: the wall time in the session's TimeZone, the requested zone;
`yyyy-mm-dd hh:mm:ss`, truncated to milliseconds, Excel's resolution),
booleans are booleans, NULL is an empty cell. Text is always a string cell: openpyxl would
otherwise turn a value starting with `=` into a formula and `#N/A` into an error cell.
Characters XML cannot carry (control characters other than TAB, LF, CR) become U+FFFD.
Integers beyond Excel's 15 significant digits are written as text rather than rounded.

openpyxl writes the sheet to a temporary file (about 3.5x the CSV size) and zips it into
`path` on save; both live in `tempfile.gettempdir()` unless the caller points it elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from streamexport_core.catalog import Column

XLSX_MAX_ROWS = 1_048_575  # 1,048,576 rows per sheet, minus the header
MAX_EXACT_INTEGER = 10**15  # Excel keeps 15 significant digits
SHEET_TITLE = "Export"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
_WIDTHS = {"timestamp": 20, "date": 12, "decimal": 14, "integer": 12, "boolean": 9, "text": 24}

Converter = Callable[[Any], Any]


def write_xlsx(
    path: Path,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    on_rows: Callable[[int], None] | None = None,
    report_every: int = 2000,
) -> int:
    """Write a header and `rows` to `path`; returns the number of data rows written.

    `on_rows(n)` is called every `report_every` rows (progress). More than XLSX_MAX_ROWS
    rows raise ValueError (callers check the count before they start).
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    _format_sheet(sheet, columns)
    sheet.append(_header(sheet, columns))
    converters = [_converter(sheet, column) for column in columns]
    count = 0
    append = sheet.append
    try:
        for row in rows:
            count += 1
            if count > XLSX_MAX_ROWS:
                raise ValueError(f"more than {XLSX_MAX_ROWS} rows do not fit in one sheet")
            append([None if v is None else c(v) for c, v in zip(converters, row, strict=True)])
            if on_rows is not None and count % report_every == 0:
                on_rows(count)
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(path)
    return count


def _discard(sheet: Any) -> None:
    """Close the half-written sheet and delete openpyxl's temporary file for it."""
    with contextlib.suppress(Exception):
        sheet.close()
    temporary = getattr(getattr(sheet, "_writer", None), "out", None)
    if isinstance(temporary, str):
        with contextlib.suppress(OSError):
            os.remove(temporary)


def _format_sheet(sheet: Any, columns: Sequence[Column]) -> None:
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        width = max(len(column.label) + 2, _WIDTHS.get(column.type, 12))
        sheet.column_dimensions[get_column_letter(index)].width = width


def _header(sheet: Any, columns: Sequence[Column]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    cells = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_text_value(column.label))
        cell.data_type = "s"
        cell.font = bold
        cells.append(cell)
    return cells


def _converter(sheet: Any, column: Column) -> Converter:
    if column.type == "text":
        return _text_converter(sheet)
    if column.type == "timestamp":
        return _timestamp_converter(sheet)
    if column.type == "date":
        return _date_converter(sheet)
    if column.type == "integer":
        return _integer
    return _identity  # decimal (Decimal is a number to openpyxl), boolean


def _identity(value: Any) -> Any:
    return value


def _integer(value: Any) -> Any:
    if -MAX_EXACT_INTEGER < value < MAX_EXACT_INTEGER:
        return value
    return str(value)


def _text_value(value: Any) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = value if isinstance(value, str) else str(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    return text


def _text_converter(sheet: Any) -> Converter:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES

    def convert(value: Any) -> Any:
        text = _text_value(value)
        if text[:1] == "=" or text in ERROR_CODES:
            # Would become a formula or an error cell: force a plain string cell.
            cell = WriteOnlyCell(sheet, value=None)
            cell.value = text
            cell.data_type = "s"
            return cell
        return text

    return convert


def _timestamp_converter(sheet: Any) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, dt.datetime):
            return value
        if value.tzinfo is not None:
            # psycopg gives the session's TimeZone (the requested zone): keep its wall time.
            value = value.replace(tzinfo=None)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    return _with_format(sheet, convert, DATETIME_FORMAT)


def _date_converter(sheet: Any) -> Converter:
    return _with_format(sheet, _identity, DATE_FORMAT)


def _with_format(sheet: Any, convert: Converter, number_format: str) -> Converter:
    from openpyxl.cell import WriteOnlyCell

    def formatted(value: Any) -> Any:
        cell = WriteOnlyCell(sheet, value=convert(value))
        cell.number_format = number_format
        return cell

    return formatted
