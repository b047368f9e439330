"""What a requester may ask for beyond resource, format and filters, checked against the catalog.

`columns` (a subset in the requester's order), `compression` (CSV and JSON Lines), `csvBom`
and `timeZone` (an IANA zone for rendering timestamps). Pure: the API checks a POST body with
`parse_options`, the exporter checks its flags with the same functions, so both refuse the
same things with the same words. Date filters do not follow `timeZone`: a `startDate` is
always the UTC day (`streamexport_core.sql` binds UTC midnights).
"""

from __future__ import annotations

import dataclasses
import functools
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from streamexport_core.catalog import Column, Resource
from streamexport_core.errors import InvalidRequest

Compression = Literal["none", "gzip"]
COMPRESSIONS: Final[tuple[Compression, ...]] = get_args(Compression)
DEFAULT_TIME_ZONE: Final = "UTC"
# Formats that compress with `compression: gzip`; XLSX (and Parquet) compress internally.
COMPRESSIBLE_FORMATS: Final = frozenset({"csv", "jsonl"})
MAX_TIME_ZONE_LENGTH: Final = 64
# The request body's option fields, in the order the OpenAPI document lists them.
OPTION_FIELDS: Final = ("columns", "compression", "csvBom", "timeZone")


@dataclass(frozen=True)
class ExportOptions:
    """The options of one export; the defaults are what a request without them gets."""

    columns: tuple[str, ...] | None = None  # None: every column, in catalog order
    compression: Compression = "none"
    csv_bom: bool = False
    time_zone: str = DEFAULT_TIME_ZONE

    @property
    def gzip(self) -> bool:
        return self.compression == "gzip"

    def to_spec(self) -> dict[str, Any]:
        """The non-default options as Export spec fields (absent: the default)."""
        spec: dict[str, Any] = {}
        if self.columns is not None:
            spec["columns"] = list(self.columns)
        if self.compression != "none":
            spec["compression"] = self.compression
        if self.csv_bom:
            spec["csvBom"] = True
        if self.time_zone != DEFAULT_TIME_ZONE:
            spec["timeZone"] = self.time_zone
        return spec


def parse_options(resource: Resource, fmt: str, body: Mapping[str, Any]) -> ExportOptions:
    """The options of a request body (or an Export spec); `InvalidRequest` names every bad field."""
    errors: list[str] = []
    options = ExportOptions()
    for name, parse in (
        ("columns", lambda v: {"columns": parse_columns(resource, v)}),
        ("compression", lambda v: {"compression": parse_compression(fmt, v)}),
        ("csvBom", lambda v: {"csv_bom": parse_csv_bom(fmt, v)}),
        ("timeZone", lambda v: {"time_zone": parse_time_zone(v)}),
    ):
        if body.get(name) is None:
            continue
        try:
            options = dataclasses.replace(options, **parse(body[name]))
        except InvalidRequest as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidRequest(errors)
    return options


def parse_columns(resource: Resource, raw: Any) -> tuple[str, ...]:
    """A non-empty list of the entry's column names, each at most once, in the caller's order."""
    if not isinstance(raw, list) or not raw or not all(isinstance(n, str) for n in raw):
        raise InvalidRequest(["columns must be a non-empty array of column names"])
    known = {column.name for column in resource.columns}
    unknown = [name for name in raw if name not in known]
    repeated = sorted({name for name in raw if raw.count(name) > 1})
    errors = []
    if unknown:
        errors.append(
            f"columns {', '.join(map(repr, unknown))} not a column of {resource.resource_type}"
            f" (allowed: {', '.join(c.name for c in resource.columns)})"
        )
    if repeated:
        errors.append(f"columns {', '.join(map(repr, repeated))} given more than once")
    if errors:
        raise InvalidRequest(errors)
    return tuple(raw)


def parse_compression(fmt: str, raw: Any) -> Compression:
    if raw not in COMPRESSIONS:
        raise InvalidRequest(["compression must be one of the following values: none, gzip"])
    if raw != "none" and fmt not in COMPRESSIBLE_FORMATS:
        raise InvalidRequest([f"compression {raw} applies to csv and jsonl only, not {fmt}"])
    compression: Compression = raw
    return compression


def parse_csv_bom(fmt: str, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise InvalidRequest(["csvBom must be a boolean"])
    if raw and fmt != "csv":
        raise InvalidRequest([f"csvBom applies to csv only, not {fmt}"])
    return raw


def parse_time_zone(raw: Any) -> str:
    """An IANA zone name from the tz database (`Europe/Berlin`, `UTC`), spelled exactly."""
    if not isinstance(raw, str) or raw not in _zones():
        raise InvalidRequest(
            ["timeZone must be an IANA time zone name such as UTC or Europe/Berlin"]
        )
    return raw


@functools.cache
def _zones() -> frozenset[str]:
    # Membership, not ZoneInfo(raw): that would also open paths such as "../../etc/x".
    return frozenset(zoneinfo.available_timezones()) | {DEFAULT_TIME_ZONE}


def selected_columns(resource: Resource, names: Sequence[str] | None) -> tuple[Column, ...]:
    """The entry's columns named by `names` in that order (None: all, catalog order)."""
    if names is None:
        return resource.columns
    by_name = {column.name: column for column in resource.columns}
    return tuple(by_name[name] for name in names)


def with_columns(resource: Resource, names: Sequence[str] | None) -> Resource:
    """The entry exporting only `names` (its filters, order and scope unchanged)."""
    if names is None:
        return resource
    return dataclasses.replace(resource, columns=selected_columns(resource, names))
