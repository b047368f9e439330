"""Server-side `Table` rendering (meta.k8s.io/v1), which is what `kubectl get` prints."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from .objects import parse_time
from .registry import PrinterColumn, ResourceType

JSON = dict[str, Any]

_NAME_COLUMN = PrinterColumn(
    name="Name",
    type="string",
    json_path=".metadata.name",
    description="Name must be unique within a namespace.",
    format="name",
)
_AGE_COLUMN = PrinterColumn(
    name="Age",
    type="date",
    json_path=".metadata.creationTimestamp",
    description="CreationTimestamp is a timestamp representing the server time when this object"
    " was created.",
)
_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def wants_table(accept: str | None) -> bool:
    """Does the Accept header ask for `as=Table;g=meta.k8s.io` (any version)?"""
    for media in (accept or "").split(","):
        params = {p.strip() for p in media.split(";")[1:]}
        if "as=Table" in params and "g=meta.k8s.io" in params:
            return True
    return False


def _columns(rt: ResourceType) -> list[PrinterColumn]:
    custom = [c for c in rt.printer_columns if c.json_path != ".metadata.name"]
    has_age = any(c.name.lower() == "age" for c in custom)
    return [_NAME_COLUMN, *custom, *([] if has_age else [_AGE_COLUMN])]


def json_path(obj: Any, path: str) -> Any:
    """Evaluate the simple JSONPath subset CRDs use: `.a.b`, `.a[0].b`, optionally in `{}`."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    value = obj
    for match in _PATH_TOKEN.finditer(path):
        key, index = match.groups()
        if key is not None and isinstance(value, dict):
            value = value.get(key)
        elif index is not None and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value


def human_age(since: datetime.datetime, now: datetime.datetime | None = None) -> str:
    """Kubernetes' HumanDuration: 45s, 3m20s, 17m, 5h3m, 3d4h, 2y10d..."""
    seconds = int(((now or datetime.datetime.now(datetime.UTC)) - since).total_seconds())
    if seconds < -1:
        return "<invalid>"
    seconds = max(seconds, 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m" if seconds % 60 == 0 else f"{minutes}m{seconds % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:
        return f"{days // 365}y" if days % 365 == 0 else f"{days // 365}y{days % 365}d"
    return f"{days // 365}y"


def _cell(column: PrinterColumn, obj: JSON) -> Any:
    value = json_path(obj, column.json_path)
    if value is None:
        return None
    if column.type == "date":
        stamp = parse_time(value)
        return human_age(stamp) if stamp else "<invalid>"
    if column.type in ("integer", "number", "boolean"):
        return value
    # Compact, as the API server prints a JSONPath result that is a list or an object.
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _row_object(obj: JSON, include: str) -> JSON | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }


def table(
    rt: ResourceType,
    objs: list[JSON],
    *,
    include: str = "Metadata",
    list_meta: JSON | None = None,
    headers: bool = True,
) -> JSON:
    """A Table of `objs`; `headers=False` for watch events after the first, as the server does."""
    columns = _columns(rt)
    rows = []
    for obj in objs:
        row: JSON = {"cells": [_cell(c, obj) for c in columns]}
        row_object = _row_object(obj, include)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    definitions = [
        {
            "name": c.name,
            "type": c.type,
            "format": c.format,
            "description": c.description,
            "priority": c.priority,
        }
        for c in columns
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
        "columnDefinitions": definitions if headers else [],
        "rows": rows,
    }
