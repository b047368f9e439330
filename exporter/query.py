"""Filters and SQL for one catalog entry: the API's COUNT and the exporter's SELECT/COPY.

Everything is composed with `psycopg.sql` (identifiers quoted) and filter values are bound
parameters; no SQL is ever built by string formatting. Sessions that run these queries set
`TimeZone` to UTC so that date filters mean whole UTC days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from psycopg import sql

from exporter.catalog import Column, Filter, Resource

MAX_TEXT_FILTER_LENGTH = 1000
# A cell starting with one of these is run as a formula by spreadsheet programs
# (OWASP "CSV injection"); such cells get a leading apostrophe in both formats.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FILE_PART = re.compile(r"[^A-Za-z0-9-]+")


class InvalidRequest(ValueError):
    """A request that can never succeed as given: a 400 in the API, exit code 2 in the exporter."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class UnknownResource(InvalidRequest):
    """The resourceType is not in the catalog."""


def parse_filters(resource: Resource, raw: Any) -> dict[str, Any]:
    """Check `raw` against the entry's filters and return typed values; every problem is listed."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidRequest(["filters must be an object"])
    errors: list[str] = []
    values: dict[str, Any] = {}
    for name, value in raw.items():
        spec = resource.filters.get(name) if isinstance(name, str) else None
        if spec is None:
            allowed = ", ".join(sorted(resource.filters)) or "none"
            errors.append(
                f"filters.{name} is not a filter of {resource.resource_type} (allowed: {allowed})"
            )
            continue
        try:
            values[name] = _parse_value(spec, value)
        except ValueError as exc:
            errors.append(f"filters.{name} {exc}")
    errors.extend(_check_ranges(resource, values))
    if errors:
        raise InvalidRequest(errors)
    return values


def _parse_value(spec: Filter, value: Any) -> Any:
    if spec.type == "date":
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise ValueError("must be a valid ISO 8601 date string (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a valid ISO 8601 date string (YYYY-MM-DD)") from None
    if spec.type == "enum":
        assert spec.values is not None
        if not isinstance(value, str) or value not in spec.values:
            raise ValueError(f"must be one of the following values: {', '.join(spec.values)}")
        return value
    if spec.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
            raise ValueError("must be an integer")
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if len(value) > MAX_TEXT_FILTER_LENGTH or "\x00" in value:
        raise ValueError(f"must be at most {MAX_TEXT_FILTER_LENGTH} characters, without NUL")
    return value


def _check_ranges(resource: Resource, values: Mapping[str, Any]) -> list[str]:
    """A dateTo before a dateFrom on the same column selects nothing: say so instead."""
    errors = []
    for start in resource.filters.values():
        if start.operator != "dateFrom" or start.name not in values:
            continue
        for end in resource.filters.values():
            if end.operator == "dateTo" and end.column == start.column and end.name in values:
                if values[end.name] < values[start.name]:
                    errors.append(f"filters.{end.name} must not be before filters.{start.name}")
    return errors


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
            params[name] = _utc_midnight(value + dt.timedelta(days=1))
            conditions.append(sql.SQL("{} < {}").format(column, placeholder))
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


def formula_test(value: sql.Composable) -> sql.Composed:
    """SQL that is true when the text `value` starts with a FORMULA_TRIGGER (NULL for NULL).

    `ascii()` (the first character's code point) measured ~25% cheaper than `left(c, 1) IN`.
    """
    codes = sql.SQL(", ").join(sql.Literal(ord(t)) for t in FORMULA_TRIGGERS)
    return sql.SQL("ascii({}) IN ({})").format(value, codes)


def _select_item(column: Column, neutralise: bool) -> sql.Composed:
    ident, label = sql.Identifier(column.name), sql.Identifier(column.label)
    if column.type == "text" and neutralise and not column.formula_safe:
        return sql.SQL("CASE WHEN {test} THEN '''' || {c} ELSE {c}::text END AS {label}").format(
            test=formula_test(ident), c=ident, label=label
        )
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


def file_name(
    resource: Resource, filters: Mapping[str, Any], fmt: str, *, gzip: bool = False
) -> str:
    """A readable download name: the stem, then the filter values in catalog order."""
    parts = [resource.file_stem]
    for name in resource.filters:
        if name in filters:
            value = filters[name]
            text = value.isoformat() if isinstance(value, dt.date) else str(value)
            cleaned = _FILE_PART.sub("-", text).strip("-")[:40]
            if cleaned:
                parts.append(cleaned)
    extension = fmt + (".gz" if gzip and fmt == "csv" else "")
    return "_".join(parts) + "." + extension
