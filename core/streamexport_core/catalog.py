"""The resource catalog: which resource types can be exported, from where, with which filters.

The catalog is data (YAML), validated once when loaded so that a bad entry fails at start-up
with the entry and field named, never with a KeyError in the middle of an export.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

from streamexport_core.contract import JobEnv
from streamexport_core.errors import CatalogError, InvalidRequest, UnknownResource
from streamexport_core.scope import (
    CLAIM_NAME,
    UNBINDABLE_CLAIMS,
    Scope,
    ScopeBinding,
    ScopeRequired,
    ScopeType,
    scope_from_json,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "Column",
    "Filter",
    "Resource",
    "ScopeBinding",
    "load_catalog",
]

ColumnType = Literal["integer", "decimal", "text", "timestamp", "date", "boolean"]
FilterOperator = Literal["eq", "dateFrom", "dateTo"]
FilterType = Literal["date", "enum", "text", "integer"]

DEFAULT_CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
CATALOG_ENV = JobEnv.CATALOG

_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Z0-9_]{0,62}$")
_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
_FILTER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_FILE_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


MAX_SCALE = 30  # PostgreSQL numeric allows more; no spreadsheet shows more digits than this
MAX_WIDTH = 255  # Excel's widest column, in characters


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: ColumnType
    # Digits after the decimal point an XLSX cell shows (decimal columns; None: General).
    scale: int | None = None
    # XLSX column width in characters (None: a default for the type and label).
    width: float | None = None
    # The values can never start with a formula trigger (enums, currency codes): CSV skips
    # the neutralising CASE for them, and XLSX skips the quotePrefix test.
    formula_safe: bool = False


@dataclass(frozen=True)
class Filter:
    name: str
    column: str
    operator: FilterOperator
    type: FilterType
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Resource:
    resource_type: str
    table: tuple[str, ...]
    file_stem: str
    columns: tuple[Column, ...]
    filters: Mapping[str, Filter]
    order_by: tuple[str, ...]
    # The catalog's row-level binding (None: open to every authenticated user), and the
    # scope resolved for one request; `streamexport_core.sql` refuses a bound resource
    # whose `granted` scope is missing.
    scope: ScopeBinding | None = None
    granted: Scope | None = None

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def with_scope(self, scope: Scope | None) -> Resource:
        """This entry as one requester may read it; `InvalidRequest` if `scope` does not fit."""
        if self.scope is None:
            if scope is not None:
                raise self._not_scoped()
            return self
        if scope is None:
            raise scope_required(self)
        if (scope.column, scope.claim) != (self.scope.column, self.scope.claim):
            raise InvalidRequest(
                [f"the scope does not match the catalog's binding of {self.resource_type}"]
            )
        return dataclasses.replace(self, granted=scope)

    def with_recorded_scope(self, document: Any) -> Resource:
        """`with_scope` from a recorded scope (spec.scope, EXPORT_SCOPE as parsed JSON)."""
        if document is None:
            return self.with_scope(None)
        if self.scope is None:
            raise self._not_scoped()
        return self.with_scope(scope_from_json(self.scope, document))

    def _not_scoped(self) -> InvalidRequest:
        # The catalog changed under a recorded export: its rows could not be the counted ones.
        return InvalidRequest(
            [f"{self.resource_type} is not scoped by the catalog, but a scope was given"]
        )


def scope_required(resource: Resource) -> ScopeRequired:
    assert resource.scope is not None
    return ScopeRequired(
        [
            f"{resource.resource_type} is scoped by claim {resource.scope.claim!r}"
            f" (column {resource.scope.column}); refusing to read it without a scope"
        ]
    )


@dataclass(frozen=True)
class Catalog:
    resources: Mapping[str, Resource] = field(default_factory=dict)

    def get(self, resource_type: str) -> Resource:
        """The entry for `resource_type`; `UnknownResource` (a 400 / exit 2) if there is none."""
        try:
            return self.resources[resource_type]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self.resources))
            raise UnknownResource(
                [f"resourceType must be one of the following values: {known}"]
            ) from None

    @property
    def resource_types(self) -> list[str]:
        return sorted(self.resources)

    @property
    def open_resources(self) -> list[str]:
        """Resource types without a scope binding: every authenticated user reads every row."""
        return sorted(name for name, r in self.resources.items() if r.scope is None)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog: `path`, else `$STREAMEXPORT_CATALOG`, else the default."""
    source = Path(path or os.environ.get(CATALOG_ENV) or DEFAULT_CATALOG_PATH)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {source}: {exc.strerror or exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog {source} is not valid YAML: {exc}") from None
    return parse_catalog(document, source=str(source))


def parse_catalog(document: Any, *, source: str = "<catalog>") -> Catalog:
    """Validate a parsed catalog document and build the typed catalog."""
    if not isinstance(document, Mapping):
        raise CatalogError(f"{source}: the catalog must be a mapping with a 'resources' key")
    resources = document.get("resources")
    if not isinstance(resources, Mapping) or not resources:
        raise CatalogError(f"{source}: 'resources' must be a non-empty mapping")
    parsed = {}
    for resource_type, entry in resources.items():
        where = f"{source}: resources.{resource_type}"
        if not isinstance(resource_type, str) or not _RESOURCE_TYPE.match(resource_type):
            raise CatalogError(f"{where}: the name must match {_RESOURCE_TYPE.pattern}")
        parsed[resource_type] = _parse_resource(resource_type, entry, where)
    return Catalog(resources=parsed)


def _parse_resource(resource_type: str, entry: Any, where: str) -> Resource:
    if not isinstance(entry, Mapping):
        raise CatalogError(f"{where}: must be a mapping")
    unknown = set(entry) - {"table", "fileStem", "columns", "filters", "orderBy", "scope"}
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")

    table = entry.get("table")
    if not isinstance(table, str) or not all(_SQL_NAME.match(p) for p in table.split(".")):
        raise CatalogError(f"{where}.table: must be a table name, optionally schema-qualified")
    parts = tuple(table.split("."))
    if len(parts) > 2:
        raise CatalogError(f"{where}.table: at most schema.table")

    file_stem = entry.get("fileStem", resource_type.lower())
    if not isinstance(file_stem, str) or not _FILE_STEM.match(file_stem):
        raise CatalogError(f"{where}.fileStem: must match {_FILE_STEM.pattern}")

    columns = _parse_columns(entry.get("columns"), f"{where}.columns")
    names = {c.name for c in columns}

    order_by = entry.get("orderBy", [columns[0].name])
    if not isinstance(order_by, list) or not order_by:
        raise CatalogError(f"{where}.orderBy: must be a non-empty list of column names")
    for i, name in enumerate(order_by):
        if not isinstance(name, str) or not _SQL_NAME.match(name):
            raise CatalogError(f"{where}.orderBy[{i}]: not a column name")

    raw_filters = entry.get("filters", {})
    if not isinstance(raw_filters, Mapping):
        raise CatalogError(f"{where}.filters: must be a mapping of filter name to definition")
    filters = {
        name: _parse_filter(name, spec, f"{where}.filters.{name}")
        for name, spec in raw_filters.items()
    }
    for i, name in enumerate(order_by):
        if name not in names:
            raise CatalogError(f"{where}.orderBy[{i}]: {name!r} is not one of the columns")
    scope = _parse_scope(entry.get("scope"), columns, f"{where}.scope")
    return Resource(
        resource_type=resource_type,
        table=parts,
        file_stem=file_stem,
        columns=columns,
        filters=filters,
        order_by=tuple(order_by),
        scope=scope,
    )


_SCOPE_TYPES: dict[str, ScopeType] = {"integer": "integer", "text": "text"}


def _parse_scope(raw: Any, columns: tuple[Column, ...], where: str) -> ScopeBinding | None:
    """`scope: {column, claim, type?}`. The column is usually an exported one (its type is
    then the column's); a column that is not exported must name its `type`."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: must be a mapping with column and claim")
    unknown = set(raw) - {"column", "claim", "type"}
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    column, claim, declared = raw.get("column"), raw.get("claim"), raw.get("type")
    if not isinstance(column, str) or not _SQL_NAME.match(column):
        raise CatalogError(f"{where}.column: must be a column name matching {_SQL_NAME.pattern}")
    if not isinstance(claim, str) or not CLAIM_NAME.match(claim) or claim in UNBINDABLE_CLAIMS:
        raise CatalogError(
            f"{where}.claim: must be a JWT claim name matching {CLAIM_NAME.pattern},"
            f" not one of {', '.join(sorted(UNBINDABLE_CLAIMS))}"
        )
    exported = next((c for c in columns if c.name == column), None)
    if declared is not None and declared not in _SCOPE_TYPES:
        raise CatalogError(f"{where}.type: must be integer or text")
    if exported is None and declared is None:
        raise CatalogError(
            f"{where}.column: {column!r} is not one of the columns; name its type"
            " (integer or text) to scope by a column that is not exported"
        )
    kind = declared if declared is not None else exported.type if exported is not None else None
    if kind not in _SCOPE_TYPES:
        raise CatalogError(
            f"{where}.column: {column!r} is {kind}; a scope column must be integer or text"
        )
    if exported is not None and declared is not None and declared != exported.type:
        raise CatalogError(f"{where}.type: {declared} disagrees with column type {exported.type}")
    return ScopeBinding(column=column, claim=claim, type=_SCOPE_TYPES[kind])


def _parse_columns(raw: Any, where: str) -> tuple[Column, ...]:
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"{where}: must be a non-empty list")
    columns: list[Column] = []
    seen_names: set[str] = set()
    seen_labels: set[str] = set()
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise CatalogError(f"{at}: must be a mapping with name, label and type")
        unknown = set(item) - {"name", "label", "type", "scale", "width", "formulaSafe"}
        if unknown:
            raise CatalogError(f"{at}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        name, label, ctype = item.get("name"), item.get("label"), item.get("type")
        if not isinstance(name, str) or not _SQL_NAME.match(name):
            raise CatalogError(f"{at}.name: must be a column name matching {_SQL_NAME.pattern}")
        if label is None:
            label = name
        if not isinstance(label, str) or not label.strip() or len(label) > 63:
            raise CatalogError(f"{at}.label: must be a non-empty string of at most 63 characters")
        if ctype not in get_args(ColumnType):
            raise CatalogError(f"{at}.type: must be one of {', '.join(get_args(ColumnType))}")
        if name in seen_names:
            raise CatalogError(f"{at}.name: duplicate column {name!r}")
        if label in seen_labels:
            raise CatalogError(f"{at}.label: duplicate label {label!r}")
        seen_names.add(name)
        seen_labels.add(label)
        columns.append(
            Column(
                name=name,
                label=label,
                type=cast(ColumnType, ctype),
                **_column_display(item, ctype, at),
            )
        )
    return tuple(columns)


def _column_display(item: Mapping[str, Any], ctype: Any, at: str) -> dict[str, Any]:
    """The optional `scale`, `width` and `formulaSafe` of a column, checked."""
    scale, width, safe = item.get("scale"), item.get("width"), item.get("formulaSafe", False)
    if scale is not None:
        if ctype != "decimal":
            raise CatalogError(f"{at}.scale: only decimal columns take a scale")
        if isinstance(scale, bool) or not isinstance(scale, int) or not 0 <= scale <= MAX_SCALE:
            raise CatalogError(f"{at}.scale: must be an integer from 0 to {MAX_SCALE}")
    if width is not None and (
        isinstance(width, bool) or not isinstance(width, int | float) or not 1 <= width <= MAX_WIDTH
    ):
        raise CatalogError(f"{at}.width: must be a number of characters from 1 to {MAX_WIDTH}")
    if not isinstance(safe, bool):
        raise CatalogError(f"{at}.formulaSafe: must be true or false")
    if safe and ctype != "text":
        raise CatalogError(f"{at}.formulaSafe: only text columns are neutralised")
    return {"scale": scale, "width": None if width is None else float(width), "formula_safe": safe}


def _parse_filter(name: Any, spec: Any, where: str) -> Filter:
    if not isinstance(name, str) or not _FILTER_NAME.match(name):
        raise CatalogError(f"{where}: the filter name must match {_FILTER_NAME.pattern}")
    if not isinstance(spec, Mapping):
        raise CatalogError(f"{where}: must be a mapping with column, operator and type")
    unknown = set(spec) - {"column", "operator", "type", "values"}
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    column, operator, ftype = spec.get("column"), spec.get("operator"), spec.get("type")
    if not isinstance(column, str) or not _SQL_NAME.match(column):
        raise CatalogError(f"{where}.column: must be a column name")
    if operator not in get_args(FilterOperator):
        raise CatalogError(
            f"{where}.operator: must be one of {', '.join(get_args(FilterOperator))}"
        )
    if ftype not in get_args(FilterType):
        raise CatalogError(f"{where}.type: must be one of {', '.join(get_args(FilterType))}")
    if operator in ("dateFrom", "dateTo") and ftype != "date":
        raise CatalogError(f"{where}.type: operator {operator} needs type date")
    values = spec.get("values")
    if ftype == "enum":
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v for v in values)
        ):
            raise CatalogError(f"{where}.values: an enum filter needs a non-empty list of strings")
        values = tuple(values)
    elif values is not None:
        raise CatalogError(f"{where}.values: only enum filters take values")
    return Filter(
        name=name,
        column=column,
        operator=cast(FilterOperator, operator),
        type=cast(FilterType, ftype),
        values=values,
    )
