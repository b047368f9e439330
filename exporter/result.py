"""The export's outcome as one JSON line: on stdout and in the pod's termination message.

Success: {"status": "succeeded", "exportId", "rows", "bytes", "bucket", "objectKey",
"fileName", "format", "contentType", "checksum", "checksumAlgorithm": "sha256",
"durationSeconds"}. `checksum` is the hex SHA-256 of the uploaded object's bytes.

Failure (termination message only): {"status": "failed", "exportId", "exitCode", "reason",
"message"}. Kubernetes keeps at most 4096 bytes of a termination message; ours fit.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.errors import Failure
from exporter.logs import get_logger

DEFAULT_TERMINATION_MESSAGE_PATH = Path("/dev/termination-log")
MAX_TERMINATION_MESSAGE = 4096


@dataclass(frozen=True)
class ExportResult:
    export_id: str
    rows: int
    bytes: int
    bucket: str
    object_key: str
    file_name: str
    format: str
    content_type: str
    checksum: str
    duration_seconds: float

    def to_json(self) -> str:
        document: dict[str, Any] = {
            "status": "succeeded",
            "exportId": self.export_id,
            "rows": self.rows,
            "bytes": self.bytes,
            "bucket": self.bucket,
            "objectKey": self.object_key,
            "fileName": self.file_name,
            "format": self.format,
            "contentType": self.content_type,
            "checksum": self.checksum,
            "checksumAlgorithm": "sha256",
            "durationSeconds": round(self.duration_seconds, 3),
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def failure_json(export_id: str, failure: Failure) -> str:
    document = {
        "status": "failed",
        "exportId": export_id,
        "exitCode": failure.exit_code,
        "reason": failure.reason,
        "message": failure.message[:2000],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def default_termination_path() -> Path | None:
    """`/dev/termination-log` when it exists and is writable (in a pod), else none."""
    path = DEFAULT_TERMINATION_MESSAGE_PATH
    return path if path.exists() and os.access(path, os.W_OK) else None


def write_termination_message(path: Path | None, line: str) -> None:
    """Best effort: a failure to write the message is logged, never raised."""
    if path is None:
        return
    data = line.encode("utf-8")[:MAX_TERMINATION_MESSAGE]
    try:
        path.write_bytes(data)
    except OSError as exc:
        get_logger("exporter.result").warning(
            "termination_message_failed", path=str(path), error=exc.strerror or exc
        )
