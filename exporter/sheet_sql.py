"""The SQL that makes PostgreSQL render an XLSX sheet's rows (SpreadsheetML) inside COPY.

Formatting cells in Python was ~80% of the old (openpyxl) XLSX path's time; PostgreSQL
renders the same XML on the other core. Every data row comes out of `COPY` as one line,
`<row><c><v>1</v></c>...</row>` plus a newline (whitespace between `<row>` elements means
nothing to XML); `exporter/writers/sheet_rows.py` finishes what PostgreSQL leaves to the
client, block by block, before the lines are deflated.

- integer: a number; beyond Excel's 15 significant digits an inline string (never rounded)
- decimal: a number with the column's number format (its catalog `scale`); NaN, Infinity
  (no number form) an inline string, as are infinite timestamps
- timestamp: an Excel serial number (days since 1899-12-30, truncated to milliseconds) of
  the wall time in the session's TimeZone (the request's timeZone, default UTC)
  with a datetime format; date: whole days with a date format
- boolean: `t="b"`, 1 or 0
- text: an inline string with `&`, `<` and `>` escaped; a value starting with a formula
  trigger (the CSV path's test) keeps its text and gets the quotePrefix style; one
  starting with whitespace gets `xml:space="preserve"` (one ending with it gets it from
  the client, which sees the escaped text's end)
- NULL (and the empty string): an empty cell, `<c/>`

No cell and no row carries its `r` reference: both are optional in SpreadsheetML (ECMA-376
Part 1, 18.3.1.4 and 18.3.1.73), and a reader takes a row without one as the row after the
previous one and a cell without one as the next column (Excel, LibreOffice, openpyxl and
calamine all do). That is why a missing value is `<c/>` rather than nothing. Numbering the
rows cost PostgreSQL ~0.4 s per 500k rows, and the references a quarter of its time.

The COPY is in text format: PostgreSQL writes TAB, LF, CR, backspace, form feed and
vertical tab in text as `\\t`, `\\n`, `\\r`, `\\b`, `\\f`, `\\v`, and a backslash as `\\\\`,
so a line never holds a raw newline but its own end. The client turns those escapes into
XML character references (or U+FFFD, for the controls XML cannot carry) and replaces the
other control characters, which COPY passes raw, by U+FFFD: one scan of each block in C,
where the same work in SQL (`regexp_replace` and two `replace` calls per text cell, plus a
per-row regular expression that decided whether a row needed them) measured 0.85 s of
PostgreSQL's 2.16 s for 500k rows (`COPY ... TO '/dev/null'`, 5 runs; 1.3 s now).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from streamexport_core.catalog import Column, Resource
from streamexport_core.sql import FORMULA_TRIGGERS, where_clause

MAX_EXACT_INTEGER = 10**15  # Excel keeps 15 significant digits
EXCEL_EPOCH = "1899-12-30"  # serial day 0 (Excel's 1900 date system, leap-year bug included)
SECONDS_PER_DAY = 86_400
EXCEL_EPOCH_OFFSET = 25_569  # serial number of 1970-01-01
HEADER_ROWS = 1

# (character, replacement), applied in this order: `&` first, so nothing is escaped twice.
# TAB, LF and CR become character references on the client (COPY escapes them).
XML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
EMPTY_CELL = "<c/>"
PRESERVE = ' xml:space="preserve"'
# A spreadsheet trims leading and trailing whitespace of a text node unless told not to.
SPACE_CODES = tuple(ord(c) for c in " \t\n\r")

_SORTED = sql.Identifier("#sorted")  # cannot clash: catalog column names never start with '#'


@dataclass(frozen=True)
class CellStyles:
    """Style indexes (`s=`) into the package's cellXfs, one per column, plus quotePrefix."""

    columns: Sequence[int]
    quote_prefix: int


def column_letter(index: int) -> str:
    """Spreadsheet column name of the 0-based `index`: A, ..., Z, AA, AB, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xml_text(value: sql.Composable) -> sql.Composed:
    """`value` (text) with the characters XML must have escaped in a text node escaped."""
    escaped: sql.Composable = value
    for char, entity in XML_ESCAPES:
        escaped = sql.SQL("replace({}, {}, {})").format(
            escaped, sql.Literal(char), sql.Literal(entity)
        )
    return sql.Composed([escaped])


def _cell(before: str, value: sql.Composable, after: str) -> sql.Composed:
    """One `||` chain per cell: NULL anywhere makes the whole cell NULL."""
    return sql.SQL("{} || {} || {}").format(sql.Literal("<c" + before), value, sql.Literal(after))


def _text_cell(column: Column, quote_prefix: int) -> sql.Composed:
    """A text cell, chosen by its first character's code (`ascii()`, one call per cell):
    a formula trigger gets the quotePrefix style, whitespace `xml:space="preserve"`."""
    v = sql.Identifier(column.name)
    text = xml_text(sql.SQL("nullif({}::text, '')").format(v))

    def cell(style: str, space: str) -> sql.Composed:
        return _cell(f' t="inlineStr"{style}><is><t{space}>', text, "</t></is></c>")

    spaces = set(SPACE_CODES)
    triggers = set() if column.formula_safe else {ord(t) for t in FORMULA_TRIGGERS}
    quoted = f' s="{quote_prefix}"'
    branches = [
        (triggers - spaces, cell(quoted, "")),
        (triggers & spaces, cell(quoted, PRESERVE)),
        (spaces - triggers, cell("", PRESERVE)),
    ]
    # A simple CASE evaluates `ascii()` once; PostgreSQL takes one value per WHEN.
    whens = sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(code), branch)
        for codes, branch in branches
        for code in sorted(codes)
    )
    return sql.SQL("CASE ascii({}) {} ELSE {} END").format(v, whens, cell("", ""))


def cell_xml(column: Column, style: int, quote_prefix: int) -> sql.Composed:
    """One cell's XML, or NULL when the value is NULL (or, for text, empty)."""
    v = sql.Identifier(column.name)
    styled = f' s="{style}"' if style else ""
    as_text = sql.SQL("{}::text").format(v)
    number = (f"{styled}><v>", "</v></c>")
    inline = (' t="inlineStr"><is><t>', "</t></is></c>")
    if column.type == "integer":
        return sql.SQL(
            "CASE WHEN {v} > {low} AND {v} < {high} THEN {number} ELSE {text} END"
        ).format(
            v=v,
            low=sql.Literal(-MAX_EXACT_INTEGER),
            high=sql.Literal(MAX_EXACT_INTEGER),
            number=_cell(number[0], as_text, number[1]),
            text=_cell(inline[0], as_text, inline[1]),
        )
    if column.type == "decimal":
        # NaN and Infinity have no scale and no number form: they become text cells.
        return sql.SQL("CASE WHEN scale({v}) IS NOT NULL THEN {number} ELSE {text} END").format(
            v=v,
            number=_cell(number[0], as_text, number[1]),
            text=_cell(inline[0], as_text, inline[1]),
        )
    if column.type == "timestamp":
        # date_trunc first: the float8 epoch of an already whole millisecond cannot round
        # down to the millisecond before it. Infinite timestamps become text cells. The cast
        # to timestamp is the wall time in the session's TimeZone (the requested zone).
        serial = sql.SQL(
            "(date_part('epoch', date_trunc('milliseconds', {v}::timestamp)) / {day} + {offset})"
            "::text"
        ).format(v=v, day=sql.Literal(SECONDS_PER_DAY), offset=sql.Literal(EXCEL_EPOCH_OFFSET))
        return sql.SQL("CASE WHEN isfinite({v}) THEN {number} ELSE {text} END").format(
            v=v,
            number=_cell(number[0], serial, number[1]),
            text=_cell(inline[0], as_text, inline[1]),
        )
    if column.type == "date":
        days = sql.SQL("({}::date - DATE {})::text").format(v, sql.Literal(EXCEL_EPOCH))
        return _cell(number[0], days, number[1])
    if column.type == "boolean":
        return _cell(' t="b"><v>', sql.SQL("{}::integer::text").format(v), "</v></c>")
    return _text_cell(column, quote_prefix)


def may_be_missing(column: Column, not_null: Collection[str]) -> bool:
    """Whether a row can lack this column's value: NULL, or (text) an empty string."""
    return column.type == "text" or column.name not in not_null


def row_xml(
    columns: Sequence[Column], styles: CellStyles, not_null: Collection[str] = frozenset()
) -> sql.Composed:
    """The expression for one `<row>`; a cell that may be missing is `<c/>` when it is, so
    that the cells after it keep their columns. `not_null` names the columns the table
    declares NOT NULL (their cells need no `coalesce()`)."""
    cells: list[sql.Composable] = []
    for i, column in enumerate(columns):
        cell = cell_xml(column, styles.columns[i], styles.quote_prefix)
        if may_be_missing(column, not_null):
            cell = sql.SQL("coalesce({}, {})").format(cell, sql.Literal(EMPTY_CELL))
        cells.append(cell)
    return sql.SQL("concat('<row>', {}, '</row>')").format(sql.SQL(", ").join(cells))


def sheet_rows_select(
    resource: Resource,
    filters: Mapping[str, Any],
    styles: CellStyles,
    not_null: Collection[str] = frozenset(),
) -> tuple[sql.Composed, dict[str, Any]]:
    """SELECT of one `<row>` per data row, in the catalog's `orderBy`.

    The rows are sorted in a subquery (which its ORDER BY keeps the planner from
    flattening) and rendered above it: the sort handles the narrow typed rows, not their
    XML, and the XML is rendered once per row by one process. Rendering in the same query
    level let the planner render in parallel workers ahead of a sort of the wide XML, which
    spilled to disk (1.6 s of PostgreSQL's time this way, 2.2 s that way).
    """
    where, params = where_clause(resource, filters)
    order = sql.SQL(", ").join(sql.Identifier(c) for c in resource.order_by)
    needed = dict.fromkeys([*(c.name for c in resource.columns), *resource.order_by])
    names = sql.SQL(", ").join(sql.Identifier(name) for name in needed)
    query = sql.SQL(
        "SELECT {row} FROM (SELECT {names} FROM {table}{where} ORDER BY {order}) AS {sorted}"
        " ORDER BY {order}"
    ).format(
        row=row_xml(resource.columns, styles, not_null),
        names=names,
        table=sql.Identifier(*resource.table),
        where=where,
        order=order,
        sorted=_SORTED,
    )
    return query, params


def sheet_rows_copy(
    resource: Resource,
    filters: Mapping[str, Any],
    styles: CellStyles,
    not_null: Collection[str] = frozenset(),
) -> tuple[sql.Composed, dict[str, Any]]:
    """`COPY (sheet_rows_select) TO STDOUT`, text format: one line per data row, to be
    finished by `exporter.writers.sheet_rows.finish_rows`."""
    select, params = sheet_rows_select(resource, filters, styles, not_null)
    return sql.SQL("COPY ({}) TO STDOUT").format(select), params
