"""The exporter's settings: one frozen value built from flags and environment variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamexport_core.contract import FORMATS, Format
from streamexport_core.errors import SettingsError

__all__ = [
    "FORMATS",
    "Format",
    "Settings",
    "SettingsError",
    "parse_bool",
    "parse_format",
    "parse_size",
]


MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
# S3's minimum: the upload holds up to MAX_PARTS_IN_MEMORY parts (and botocore a copy of the
# one in flight), so the part size is the step in peak RSS between an export that fits in one
# PUT and one that does not; 8 MiB parts made that +14% (XLSX, 100k -> 1M rows), 5 MiB +8%.
DEFAULT_PART_SIZE = MIN_PART_SIZE

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "ki": 1024,
    "kib": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    database_url: str = field(repr=False)  # may hold a password: never logged
    resource_type: str
    format: Format
    filters: Mapping[str, Any]
    bucket: str
    export_id: str
    object_key: str | None = None
    object_key_prefix: str | None = None
    export_namespace: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    part_size: int = DEFAULT_PART_SIZE
    gzip: bool = False
    bom: bool = False
    termination_message_path: Path | None = None
    statement_timeout: float = 1800.0
    connect_timeout: int = 10
    abort_timeout: float = 20.0
    catalog: Path | None = None
    progress_interval: float = 1.0
    log_level: str = "info"
    # The Export's spec.scope (parsed JSON), checked against the catalog by the Plan; None
    # only for a resource the catalog leaves open.
    scope: Mapping[str, Any] | None = None
    # The request's options: the columns in the file's order (None: all) and the IANA zone
    # timestamps are rendered in; checked against the catalog by the Plan.
    columns: tuple[str, ...] | None = None
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise SettingsError(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            raise SettingsError(
                f"part size must be between 5MiB and 5GiB, not {self.part_size} bytes"
            )
        for name in ("database_url", "resource_type", "bucket", "export_id"):
            if not getattr(self, name):
                raise SettingsError(f"{name.replace('_', ' ')} is required")
        for name in ("statement_timeout", "abort_timeout", "progress_interval"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name.replace('_', ' ')} must not be negative")
        if self.connect_timeout < 1:
            raise SettingsError("connect timeout must be at least 1 second")
        if self.object_key and self.object_key_prefix:
            raise SettingsError("give an object key or an object key prefix, not both")

    def key_for(self, file_name: str) -> str:
        """Where the file goes: the whole key if given, else the prefix (a folder) + its name."""
        if self.object_key:
            return self.object_key
        prefix = self.object_key_prefix or f"exports/{self.export_id}/"
        return prefix + ("" if prefix.endswith("/") else "/") + file_name


def parse_size(text: str) -> int:
    """Bytes from `8388608`, `8MiB`, `8Mi` (binary) or `8MB`, `8M` (decimal)."""
    match = _SIZE.match(text)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise SettingsError(f"{text!r} is not a size such as 8388608, 8MiB or 10MB")
    return int(float(match.group(1)) * unit)


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{text!r} is not a boolean (true/false, 1/0, yes/no, on/off)")


def parse_format(text: str) -> Format:
    value = text.strip().lower()
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise SettingsError(f"format must be one of {', '.join(FORMATS)}, not {text!r}")
