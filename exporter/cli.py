"""`python -m exporter`: flags, each also read from an environment variable of the same meaning.

A flag wins over its environment variable, which wins over the default. The Job sets the
environment; a person at a shell uses flags. Exit codes: see `exporter.errors`.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import signal
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from exporter import logs
from exporter.errors import EXIT_OK, Terminated, classify
from exporter.memguard import MemoryGuard
from exporter.result import default_termination_path, failure_json, write_termination_message
from exporter.settings import (
    FORMATS,
    Settings,
    SettingsError,
    parse_bool,
    parse_format,
    parse_size,
)
from streamexport_core.contract import DEFAULT_AWS_REGION, JobEnv


@dataclass(frozen=True)
class Option:
    flag: str
    env: str
    help: str
    default: str | None = None
    required: bool = False
    boolean: bool = False
    metavar: str = "VALUE"


OPTIONS: tuple[Option, ...] = (
    Option(
        "--database-url",
        JobEnv.DATABASE_URL,
        "libpq URL or conninfo of the database",
        required=True,
        metavar="URL",
    ),
    Option(
        "--resource-type",
        JobEnv.RESOURCE_TYPE,
        "catalog entry, e.g. TRANSACTIONS",
        required=True,
        metavar="TYPE",
    ),
    Option(
        "--format",
        JobEnv.FORMAT,
        f"output format: {', '.join(FORMATS)}",
        "csv",
        metavar="FORMAT",
    ),
    Option(
        "--filters",
        JobEnv.FILTERS,
        'filters as a JSON object, e.g. {"startDate": "2024-01-01", "status": "SETTLED"}',
        "{}",
        metavar="JSON",
    ),
    Option(
        "--scope",
        JobEnv.SCOPE,
        "row scope as JSON, the Export's spec.scope, e.g."
        ' {"column": "merchant_id", "claim": "merchantId", "values": [7]};'
        " required for a resource the catalog scopes",
        metavar="JSON",
    ),
    Option("--bucket", JobEnv.BUCKET, "S3 bucket to upload to", required=True, metavar="BUCKET"),
    Option(
        "--object-key-prefix",
        JobEnv.OBJECT_KEY_PREFIX,
        "S3 key prefix; the object is <prefix><file name> (default: exports/<export id>/)",
        metavar="PREFIX",
    ),
    Option(
        "--object-key",
        JobEnv.OBJECT_KEY,
        "the whole S3 object key instead (not with --object-key-prefix)",
        metavar="KEY",
    ),
    Option(
        "--export-id",
        JobEnv.EXPORT_NAME,
        "the export's name, on every log line (default: a new UUID)",
        metavar="NAME",
    ),
    Option(
        "--export-namespace",
        JobEnv.EXPORT_NAMESPACE,
        "the Export resource's namespace",
        metavar="NAMESPACE",
    ),
    Option(
        "--s3-endpoint-url",
        JobEnv.S3_ENDPOINT_URL,
        "S3 endpoint of an S3-compatible store, path-style addressing (default: AWS)",
        metavar="URL",
    ),
    Option(
        "--s3-region",
        JobEnv.AWS_REGION,
        f"S3 region (default: $AWS_DEFAULT_REGION, else {DEFAULT_AWS_REGION})",
        metavar="REGION",
    ),
    Option(
        "--part-size",
        JobEnv.PART_SIZE,
        "multipart part size, bytes or e.g. 8MiB, 16Mi, 10MB; 5MiB to 5GiB",
        "5MiB",
        metavar="SIZE",
    ),
    Option(
        "--columns",
        JobEnv.COLUMNS,
        "column names, comma-separated, in the file's order (default: every column)",
        metavar="NAMES",
    ),
    Option(
        "--time-zone",
        JobEnv.TIME_ZONE,
        "IANA zone the timestamps are rendered in; date filters stay UTC days",
        "UTC",
        metavar="ZONE",
    ),
    Option(
        "--gzip",
        JobEnv.GZIP,
        "gzip the CSV or JSON Lines (the file gets .gz); ignored for XLSX",
        "false",
        boolean=True,
    ),
    Option(
        "--bom",
        JobEnv.CSV_BOM,
        "start the CSV with a UTF-8 byte order mark (for Excel); ignored for XLSX",
        "false",
        boolean=True,
    ),
    Option(
        "--termination-message-path",
        JobEnv.TERMINATION_MESSAGE_PATH,
        "file for the result JSON; empty for none (default: /dev/termination-log if writable)",
        metavar="PATH",
    ),
    Option(
        "--statement-timeout",
        "EXPORT_STATEMENT_TIMEOUT",
        "PostgreSQL statement_timeout in seconds, 0 for none",
        "1800",
        metavar="SECONDS",
    ),
    Option(
        "--connect-timeout",
        "EXPORT_CONNECT_TIMEOUT",
        "database connect timeout in seconds",
        "10",
        metavar="SECONDS",
    ),
    Option(
        "--abort-timeout",
        "EXPORT_ABORT_TIMEOUT",
        "how long to keep retrying the abort of a failed upload, in seconds",
        "20",
        metavar="SECONDS",
    ),
    Option(
        "--catalog",
        JobEnv.CATALOG,
        "resource catalog YAML (default: the packaged catalog)",
        metavar="PATH",
    ),
    Option(
        "--progress-interval",
        "EXPORT_PROGRESS_INTERVAL",
        "seconds between progress reports",
        "1",
        metavar="SECONDS",
    ),
    Option(
        "--log-level",
        JobEnv.LOG_LEVEL,
        "debug, info, warning or error",
        "info",
        metavar="LEVEL",
    ),
)


_LEVELS = ("debug", "info", "warning", "error")
_M_MMAP_THRESHOLD = -3  # glibc mallopt parameters (malloc.h)
_M_ARENA_MAX = -8


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise SettingsError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m exporter",
        description=(
            "Stream one export from PostgreSQL to S3 as CSV, XLSX, JSON Lines or Parquet."
            " Every flag can also be given as the environment variable shown; the flag wins."
            " Prints one JSON line with the result. Exit codes: 0 done; 2 the request can"
            " never succeed (do not retry); 1 may succeed on retry; 143/130 terminated by"
            " SIGTERM/SIGINT."
        ),
    )
    for option in OPTIONS:
        dest = option.flag[2:].replace("-", "_")
        suffix = f" [env: {option.env}]"
        if option.default is not None:
            suffix += f" (default: {option.default})"
        if option.boolean:
            parser.add_argument(
                option.flag,
                dest=dest,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=option.help + suffix,
            )
        else:
            parser.add_argument(
                option.flag,
                dest=dest,
                metavar=option.metavar,
                default=None,
                help=option.help + suffix,
            )
    return parser


def parse_settings(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Settings:
    """Flags, then environment, then defaults; any bad value is a SettingsError (exit 2)."""
    args = vars(build_parser().parse_args(argv))
    raw: dict[str, Any] = {}
    for option in OPTIONS:
        dest = option.flag[2:].replace("-", "_")
        value = args[dest]
        if value is None:
            value = environ.get(option.env)
        if value is None:
            value = option.default
        if value is None and option.required:
            raise SettingsError(f"{option.flag} (or {option.env}) is required")
        raw[dest] = value

    def number(name: str, cast: Callable[[str], Any] = float) -> Any:
        try:
            return cast(str(raw[name]))
        except ValueError:
            raise SettingsError(f"--{name.replace('_', '-')} must be a number") from None

    region = raw["s3_region"] or environ.get("AWS_DEFAULT_REGION") or DEFAULT_AWS_REGION
    return Settings(
        database_url=raw["database_url"],
        resource_type=raw["resource_type"],
        format=parse_format(raw["format"]),
        filters=_parse_filters(raw["filters"]),
        bucket=raw["bucket"],
        export_id=raw["export_id"] or str(uuid.uuid4()),
        object_key=raw["object_key"] or None,
        object_key_prefix=raw["object_key_prefix"] or None,
        export_namespace=raw["export_namespace"] or None,
        s3_endpoint_url=raw["s3_endpoint_url"] or None,
        s3_region=region,
        part_size=parse_size(raw["part_size"]),
        gzip=raw["gzip"] if isinstance(raw["gzip"], bool) else parse_bool(raw["gzip"]),
        bom=raw["bom"] if isinstance(raw["bom"], bool) else parse_bool(raw["bom"]),
        termination_message_path=_termination_path(raw["termination_message_path"]),
        statement_timeout=number("statement_timeout"),
        connect_timeout=number("connect_timeout", int),
        abort_timeout=number("abort_timeout"),
        catalog=Path(raw["catalog"]) if raw["catalog"] else None,
        progress_interval=number("progress_interval"),
        log_level=_log_level(raw["log_level"]),
        scope=_parse_scope(raw["scope"]),
        columns=_parse_columns(raw["columns"]),
        time_zone=raw["time_zone"].strip() or "UTC",
    )


def _parse_columns(text: str | None) -> tuple[str, ...] | None:
    """`id,amount` -> ("id", "amount"); the Plan checks the names against the catalog."""
    if text is None or not text.strip():
        return None
    return tuple(name.strip() for name in text.split(","))


def _parse_filters(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise SettingsError(f"--filters (EXPORT_FILTERS) is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SettingsError("--filters (EXPORT_FILTERS) must be a JSON object")
    return value


def _parse_scope(text: str | None) -> dict[str, Any] | None:
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"--scope (EXPORT_SCOPE) is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SettingsError("--scope (EXPORT_SCOPE) must be a JSON object")
    return value


def _termination_path(value: str | None) -> Path | None:
    if value is None:
        return default_termination_path()
    return Path(value) if value else None


def _log_level(value: str) -> str:
    level = value.strip().lower()
    if level not in _LEVELS:
        raise SettingsError(f"--log-level must be debug, info, warning or error, not {value!r}")
    return level


def _install_signal_handlers() -> None:
    """SIGTERM/SIGINT raise Terminated once, so cleanup (abort the upload) runs; later ones
    are logged and ignored so that the cleanup itself is not cut short."""
    log = logs.get_logger("exporter")

    def ignore(signum: int, frame: FrameType | None) -> None:
        log.warning("signal_ignored_during_cleanup", signal=signal.Signals(signum).name)

    def terminate(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, ignore)
        signal.signal(signal.SIGINT, ignore)
        log.warning("signal_received", signal=signal.Signals(signum).name)
        raise Terminated(signum)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)


def tune_malloc() -> None:
    """glibc: serve blocks of 256 KiB and more from mmap (returned to the kernel when freed)
    and use at most two arenas. Without this the dynamic mmap threshold rises to the 8 MiB
    part size, parts come from the heap, and fragmentation grows RSS with the row count
    (measured: +17% from 100k to 1M rows; with it, +3%)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 256 * 1024)
        libc.mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run one export; returns the exit code. Never lets a traceback escape."""
    environ = os.environ if environ is None else environ
    # Until the settings are parsed, log with what the environment says.
    export_id = environ.get(JobEnv.EXPORT_NAME) or "-"
    termination_path = _termination_path(environ.get(JobEnv.TERMINATION_MESSAGE_PATH))
    level = environ.get(JobEnv.LOG_LEVEL, "info").strip().lower()
    logs.configure(export_id, level if level in _LEVELS else "info")
    log = logs.get_logger("exporter")
    try:
        _install_signal_handlers()
        MemoryGuard.start()  # exit 3 near the memory limit, before the kernel's 137
        settings = parse_settings(argv, environ)
        export_id = settings.export_id
        termination_path = settings.termination_message_path
        logs.configure(export_id, settings.log_level)

        from exporter.export import run
        from exporter.kube_progress import build_reporter

        result = run(settings, build_reporter())
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except BaseException as exc:
        failure = classify(exc)
        if failure.reason == "InternalError":
            log.exception_debug("internal_error")
        log.error(
            "export_failed",
            exit_code=failure.exit_code,
            reason=failure.reason,
            message=failure.message,
        )
        write_termination_message(termination_path, failure_json(export_id, failure))
        return failure.exit_code
    line = result.to_json()
    print(line, flush=True)
    write_termination_message(termination_path, line)
    return EXIT_OK
