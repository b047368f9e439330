"""The export's file name, from the catalog and rules the exporter uses (streamexport_core.filters).

The operator names the object (`EXPORT_OBJECT_KEY`) before the Job exists, so that the key is
deterministic across retries; a spec the catalog rejects is an InvalidRequest without a Job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streamexport_core.catalog import Catalog, load_catalog
from streamexport_core.errors import InvalidRequest
from streamexport_core.filters import file_name, parse_filters


class Rejected(ValueError):
    """The spec can never be exported: an unknown resource type or invalid filters."""


@dataclass(frozen=True)
class FileNamer:
    catalog: Catalog

    @classmethod
    def load(cls) -> FileNamer:
        """The catalog at STREAMEXPORT_CATALOG, else the packaged default."""
        return cls(load_catalog())

    def name_for(self, spec: Mapping[str, Any]) -> str:
        """`transactions_2024-01-01_2024-03-01.csv`; raises `Rejected` for a bad spec."""
        try:
            resource = self.catalog.get(str(spec.get("resourceType") or ""))
            filters = parse_filters(resource, spec.get("filters") or {})
        except InvalidRequest as error:
            raise Rejected(str(error)) from None
        gzip = spec.get("compression") == "gzip"
        return file_name(resource, filters, str(spec.get("format") or "csv"), gzip=gzip)
