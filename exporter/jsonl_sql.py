"""The SQL that makes PostgreSQL render JSON Lines inside COPY: one JSON object per row.

`to_json()` of a row whose fields are the selected columns, named by their catalog `name`
(stable identifiers, unlike the display labels CSV and XLSX use as headers), in the
requester's order. PostgreSQL writes integers and decimals as JSON numbers (exactly, as
`numeric` prints them; NaN and Infinity, which JSON has no number for, as strings),
booleans as true/false, NULL as null, dates as "YYYY-MM-DD" and timestamps as RFC 3339
("2024-01-01T09:30:00+01:00", in the session's TimeZone); text is escaped by JSON's rules, so
control characters, CR and LF appear only as escapes. No formula neutralising: JSON is data,
not a spreadsheet.

The COPY is `FORMAT binary`: PostgreSQL sends each JSON value as it is, where its text and
CSV formats would scan every byte for characters to escape or quote (the text format would
also double every backslash of the JSON). `Snapshot.copy_value_lines` takes the binary
framing off and ends each value with a newline, so each line is exactly the JSON object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import sql

from streamexport_core.catalog import Resource
from streamexport_core.sql import where_clause

_SOURCE = sql.Identifier("#source")  # cannot clash: catalog column names never start with '#'
_ROW = sql.Identifier("#row")


def jsonl_select(
    resource: Resource, filters: Mapping[str, Any]
) -> tuple[sql.Composed, dict[str, Any]]:
    """SELECT of one JSON object per row, in the catalog's `orderBy`.

    The filters apply inside `#source` (where the column names are the table's alone); the
    LATERAL subquery names the row's fields. The planner flattens both, so the ORDER BY is
    the table's own (its index) and `to_json()` sees a row of just the selected columns.
    """
    where, params = where_clause(resource, filters)
    fields = sql.SQL(", ").join(
        sql.SQL("{}.{} AS {}").format(_SOURCE, sql.Identifier(c.name), sql.Identifier(c.name))
        for c in resource.columns
    )
    order = sql.SQL(", ").join(
        sql.SQL("{}.{}").format(_SOURCE, sql.Identifier(name)) for name in resource.order_by
    )
    query = sql.SQL(
        "SELECT to_json({row}) FROM (SELECT * FROM {table}{where}) AS {source},"
        " LATERAL (SELECT {fields}) AS {row} ORDER BY {order}"
    ).format(
        row=_ROW,
        table=sql.Identifier(*resource.table),
        where=where,
        source=_SOURCE,
        fields=fields,
        order=order,
    )
    return query, params


def jsonl_copy(
    resource: Resource, filters: Mapping[str, Any]
) -> tuple[sql.Composed, dict[str, Any]]:
    """`COPY (jsonl_select) TO STDOUT (FORMAT binary)`: one `json` value per row."""
    select, params = jsonl_select(resource, filters)
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(select), params
