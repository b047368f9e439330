"""When a finished export is deleted: pure arithmetic on its status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from streamexport_core.timestamps import parse_time
from streamexport_operator.exports import TERMINAL_PHASES


def due_at(status: Mapping[str, Any], retention_seconds: float) -> dt.datetime | None:
    """`completedAt` + retention for a finished export; None when retention is off (0) or the
    export has not finished."""
    if retention_seconds <= 0 or status.get("phase") not in TERMINAL_PHASES:
        return None
    completed = parse_time(status.get("completedAt"))
    if completed is None:
        return None
    return completed + dt.timedelta(seconds=retention_seconds)


def seconds_left(
    status: Mapping[str, Any], retention_seconds: float, now: dt.datetime
) -> float | None:
    """How long until the export is due for deletion (≤ 0 when overdue); None when never."""
    due = due_at(status, retention_seconds)
    return None if due is None else (due - now).total_seconds()
