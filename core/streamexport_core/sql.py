"""SQL for one catalog entry: the API's COUNT and the exporter's SELECT/COPY.

Everything is composed with `psycopg.sql` (identifiers quoted) and filter values are bound
parameters; no SQL is ever built by string formatting. Sessions that run these queries set
`TimeZone` to UTC so that date filters mean whole UTC days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from psycopg import sql

from streamexport_core.catalog import Column, Resource

# A cell starting with one of these is run as a formula by spreadsheet programs
# (OWASP "CSV injection"); such cells get a leading apostrophe in both formats.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def where_clause(
    resource: Resource, filters: Mapping[str, Any]
) -> tuple[sql.Composable, dict[str, Any]]:
    """The WHERE clause (or nothing) and its bound parameters, in catalog filter order."""
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {}
    for name, spec in resource.filters.items():
        if name not in filters:
            continue
        value = filters[name]
        column = sql.Identifier(spec.column)
        placeholder = sql.Placeholder(name)
        if spec.operator == "dateFrom":
            params[name] = _utc_midnight(value)
            conditions.append(sql.SQL("{} >= {}").format(column, placeholder))
        elif spec.operator == "dateTo":
            # The day after is added by PostgreSQL: in Python it overflows on 9999-12-31.
            params[name] = _utc_midnight(value)
            conditions.append(sql.SQL("{} < {} + interval '1 day'").format(column, placeholder))
        else:
            params[name] = value
            conditions.append(sql.SQL("{} = {}").format(column, placeholder))
    if not conditions:
        return sql.SQL(""), params
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions), params


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _table(resource: Resource) -> sql.Identifier:
    return sql.Identifier(*resource.table)


def count_query(
    resource: Resource, filters: Mapping[str, Any]
) -> tuple[sql.Composed, dict[str, Any]]:
    where, params = where_clause(resource, filters)
    return sql.SQL("SELECT count(*) FROM {}{}").format(_table(resource), where), params


def _select_item(column: Column, neutralise: bool) -> sql.Composed:
    ident, label = sql.Identifier(column.name), sql.Identifier(column.label)
    if column.type == "text" and neutralise:
        return sql.SQL(
            "CASE WHEN left({c}, 1) IN ('=', '+', '-', '@', chr(9), chr(13))"
            " THEN '''' || {c} ELSE {c}::text END AS {label}"
        ).format(c=ident, label=label)
    return sql.SQL("{} AS {}").format(ident, label)


def select_query(
    resource: Resource, filters: Mapping[str, Any], *, neutralise: bool = True
) -> tuple[sql.Composed, dict[str, Any]]:
    """SELECT of the entry's columns (aliased as their labels) in a stable order."""
    where, params = where_clause(resource, filters)
    query = sql.SQL("SELECT {cols} FROM {table}{where} ORDER BY {order}").format(
        cols=sql.SQL(", ").join(_select_item(c, neutralise) for c in resource.columns),
        table=_table(resource),
        where=where,
        order=sql.SQL(", ").join(sql.Identifier(c) for c in resource.order_by),
    )
    return query, params


def copy_query(
    resource: Resource, filters: Mapping[str, Any], *, neutralise: bool = True
) -> tuple[sql.Composed, dict[str, Any]]:
    """`COPY (SELECT ...) TO STDOUT (FORMAT csv, HEADER)`: PostgreSQL formats the CSV."""
    select, params = select_query(resource, filters, neutralise=neutralise)
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER)").format(select), params

