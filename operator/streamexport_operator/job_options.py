"""The request's options (spec.columns, compression, csvBom, timeZone) as the Job's environment.

Copied from the immutable spec, never derived: the API validated them against the catalog and
the exporter checks them again (exit 2 for an option that can never work). An option the spec
leaves out is left out here too, so the exporter's default applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamexport_core.contract import JobEnv


def option_env(spec: Mapping[str, Any]) -> dict[str, str | None]:
    columns = spec.get("columns")
    return {
        JobEnv.COLUMNS: ",".join(columns) if columns else None,
        JobEnv.GZIP: "true" if spec.get("compression") == "gzip" else None,
        JobEnv.CSV_BOM: "true" if spec.get("csvBom") else None,
        JobEnv.TIME_ZONE: spec.get("timeZone") or None,
    }
