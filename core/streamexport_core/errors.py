"""Domain errors shared by every component; each translates them once, at its edge.

The API answers `InvalidRequest` with a 400 listing every problem; the exporter exits with
code 2 (do not retry). `SettingsError` is a bad environment variable or flag, named in the
message; `CatalogError` a catalog that cannot be loaded.
"""

from __future__ import annotations


class InvalidRequest(ValueError):
    """A request that can never succeed as given: a 400 in the API, exit code 2 in the exporter."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class UnknownResource(InvalidRequest):
    """The resourceType is not in the catalog."""


class SettingsError(ValueError):
    """A missing or malformed setting (environment variable or flag); the message names it."""


class CatalogError(ValueError):
    """The catalog file is missing, unreadable or invalid."""
