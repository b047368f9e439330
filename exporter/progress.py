"""Progress: a small reporter interface, called with the rows written at most every second or so.

Locally progress is logged. The operator adds a reporter that patches the Export's status; a
reporter is called on the export's own thread, so it must return quickly (hand slow I/O to a
thread of its own) and should not raise (a raising reporter is logged and then ignored).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from exporter.logs import EventLogger, get_logger


@dataclass(frozen=True)
class Progress:
    rows_written: int
    total_rows: int | None
    elapsed_seconds: float
    done: bool = False

    @property
    def percentage(self) -> int | None:
        """0..100; 100 only once the file is uploaded (`done`)."""
        if self.done:
            return 100
        if not self.total_rows:
            return None
        return min(99, self.rows_written * 100 // self.total_rows)


class ProgressReporter(Protocol):
    def report(self, progress: Progress) -> None: ...


class LogReporter:
    """Logs `event=progress rows=... total=... percent=...`."""

    def __init__(self, log: EventLogger | None = None) -> None:
        self._log = log or get_logger("exporter.progress")

    def report(self, progress: Progress) -> None:
        self._log.info(
            "progress",
            rows=progress.rows_written,
            total=progress.total_rows,
            percent=progress.percentage,
            elapsed=f"{progress.elapsed_seconds:.1f}",
        )


class Throttled:
    """Forwards `update(rows)` to a reporter at most once per `interval` seconds."""

    def __init__(
        self,
        reporter: ProgressReporter,
        total_rows: int | None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reporter = reporter
        self._total = total_rows
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._next = self._started + interval
        self._failed = False

    def update(self, rows: int) -> None:
        now = self._clock()
        if now >= self._next:
            self._next = now + self._interval
            self._send(Progress(rows, self._total, now - self._started))

    def finish(self, rows: int) -> None:
        self._send(Progress(rows, self._total, self._clock() - self._started, done=True))

    def _send(self, progress: Progress) -> None:
        try:
            self._reporter.report(progress)
        except Exception as exc:
            if not self._failed:  # say it once, not once a second
                get_logger("exporter.progress").warning("progress_report_failed", error=exc)
            self._failed = True

