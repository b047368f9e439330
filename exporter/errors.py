"""What went wrong, as the exit code and reason the operator acts on.

Exit codes: 0 success; 2 a request that can never succeed (do not retry); 1 a failure that may
succeed on retry; 3 out of memory (the memory guard, or a MemoryError); 128+N killed by
signal N (SIGTERM: 143, SIGINT: 130).
"""

from __future__ import annotations

from dataclasses import dataclass

from exporter.memguard import MemoryLimitReached
from streamexport_core.contract import EXIT_OK, EXIT_OUT_OF_MEMORY, EXIT_PERMANENT, EXIT_RETRYABLE
from streamexport_core.errors import CatalogError, InvalidRequest, SettingsError

__all__ = ["EXIT_OK", "EXIT_PERMANENT", "EXIT_RETRYABLE", "Failure", "classify"]


class ExportError(Exception):
    """A failure with a one-line message for the user and a CamelCase reason."""

    exit_code = EXIT_RETRYABLE
    reason = "ExportFailed"


class PermanentError(ExportError):
    exit_code = EXIT_PERMANENT
    reason = "InvalidRequest"


class SheetTooLarge(PermanentError):
    """More rows than one XLSX sheet holds (not the API's export limit, `api.errors.TooManyRows`).
    The reason string stays `TooManyRows`: the operator and the emails already show it."""

    reason = "TooManyRows"


class StorageError(ExportError):
    """S3 failed (unreachable, refused, or the upload could not be completed)."""

    reason = "StorageError"


class Terminated(BaseException):
    """A signal asked us to stop; a BaseException so that no `except Exception` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


@dataclass(frozen=True)
class Failure:
    exit_code: int
    reason: str
    message: str


def one_line(text: str, limit: int = 1000) -> str:
    """Collapse whitespace and newlines (psycopg's messages span lines) and cap the length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def classify(exc: BaseException) -> Failure:
    """Map any exception to the exit code, reason and one-line message."""

    if isinstance(exc, Terminated):
        return Failure(128 + exc.signum, "Terminated", str(exc))
    if isinstance(exc, MemoryLimitReached):
        return Failure(EXIT_OUT_OF_MEMORY, "OutOfMemory", one_line(str(exc)))
    if isinstance(exc, MemoryError):  # under an address-space rlimit: the allocation failed
        return Failure(EXIT_OUT_OF_MEMORY, "OutOfMemory", "the exporter ran out of memory")
    if isinstance(exc, InvalidRequest):
        return Failure(EXIT_PERMANENT, "InvalidRequest", one_line(str(exc)))
    if isinstance(exc, SettingsError):
        return Failure(EXIT_PERMANENT, "InvalidSettings", one_line(str(exc)))
    if isinstance(exc, CatalogError):
        return Failure(EXIT_PERMANENT, "InvalidCatalog", one_line(str(exc)))
    if isinstance(exc, ExportError):
        return Failure(exc.exit_code, exc.reason, one_line(str(exc)))
    database = _database_failure(exc)
    if database is not None:
        return database
    storage = _storage_failure(exc)
    if storage is not None:
        return storage
    if isinstance(exc, OSError):
        return Failure(EXIT_RETRYABLE, "IOError", one_line(f"I/O error: {exc}"))
    return Failure(
        EXIT_RETRYABLE, "InternalError", one_line(f"internal error: {type(exc).__name__}: {exc}")
    )


def _database_failure(exc: BaseException) -> Failure | None:
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return None
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return Failure(EXIT_RETRYABLE, "StatementTimeout", one_line(f"database query: {exc}"))
    if sqlstate.startswith("42"):
        # Undefined table/column, permission denied: the catalog does not fit the database.
        return Failure(EXIT_PERMANENT, "QueryError", one_line(f"database query failed: {exc}"))
    if isinstance(exc, psycopg.OperationalError) and not sqlstate:
        return Failure(
            EXIT_RETRYABLE, "DatabaseUnavailable", one_line(f"database unreachable: {exc}")
        )
    return Failure(EXIT_RETRYABLE, "DatabaseError", one_line(f"database error: {exc}"))


def _storage_failure(exc: BaseException) -> Failure | None:
    module = type(exc).__module__
    if not module.startswith(("botocore", "boto3", "s3transfer", "urllib3")):
        return None
    return Failure(EXIT_RETRYABLE, "StorageError", one_line(f"S3 error: {exc}"))
