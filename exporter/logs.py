"""Structured logs on stderr: one `key=value` line per event, the export's name on every line.

ts=2026-11-28T20:15:39.123Z level=info export=4f1c... event=progress rows=10000 total=50000
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@+,%")


def quote(value: Any) -> str:
    """A value as logfmt: bare when safe, else a JSON string (one line, escapes visible)."""
    text = value if isinstance(value, str) else str(value)
    if text and all(ch in _BARE for ch in text):
        return text
    return json.dumps(text, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    def __init__(self, export_id: str) -> None:
        super().__init__()
        self.export_id = export_id

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": self.formatTime(record),
            "level": record.levelname.lower(),
            "export": self.export_id,
        }
        extra = getattr(record, "kv", None)
        if isinstance(extra, dict):
            fields["event"] = record.getMessage()
            fields.update(extra)
        else:  # a library's record
            fields["logger"] = record.name
            fields["msg"] = record.getMessage()
        if record.exc_info and record.levelno <= logging.DEBUG:
            fields["traceback"] = self.formatException(record.exc_info)
        return " ".join(f"{key}={quote(value)}" for key, value in fields.items())


class EventLogger:
    """`log.info("event_name", key=value, ...)`."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def _log(self, level: int, event: str, fields: dict[str, Any], exc: bool = False) -> None:
        if self._logger.isEnabledFor(level):
            clean = {k: v for k, v in fields.items() if v is not None}
            self._logger.log(level, event, extra={"kv": clean}, exc_info=exc)

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, fields)

    def exception_debug(self, event: str, **fields: Any) -> None:
        """The current exception's traceback, at debug level only."""
        self._log(logging.DEBUG, event, fields, exc=True)


def get_logger(name: str) -> EventLogger:
    return EventLogger(logging.getLogger(name))


def configure(export_id: str, level: str = "info", stream: TextIO | None = None) -> None:
    """Send every log record (ours and the libraries') to stderr as key=value lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter(export_id))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # Python warnings as key=value lines too
    # The libraries are chatty at INFO/DEBUG (every request); keep their warnings.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "psycopg"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
