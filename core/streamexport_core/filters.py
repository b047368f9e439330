"""Request filters checked against one catalog entry, and the download's file name.

Pure: no database and no SQL here (`streamexport_core.sql` binds the typed values).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from streamexport_core.catalog import Filter, Resource
from streamexport_core.errors import InvalidRequest

MAX_TEXT_FILTER_LENGTH = 1000

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FILE_PART = re.compile(r"[^A-Za-z0-9-]+")


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
    extension = fmt + (".gz" if gzip and fmt in ("csv", "jsonl") else "")
    return "_".join(parts) + "." + extension


def scope_violations(resource: Resource, filters: Mapping[str, Any]) -> list[str]:
    """Filters on the scoped column naming a value the granted scope does not allow.

    The scope is ANDed into the SQL anyway, so such a filter could only select nothing; it
    is refused instead (a 403 in the API), so that a probe for another tenant's rows is told
    so rather than answered with an empty file.
    """
    binding, scope = resource.scope, resource.granted
    if binding is None or scope is None:
        return []
    problems = []
    for name, spec in resource.filters.items():
        if name in filters and spec.column == binding.column and spec.operator == "eq":
            if not scope.allows(filters[name]):
                problems.append(
                    f"filters.{name} names {filters[name]!r}, which the token's"
                    f" {binding.claim!r} claim does not grant"
                )
    return problems
