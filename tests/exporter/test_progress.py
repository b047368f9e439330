"""Progress reports are throttled, end at 100%, and a failing reporter does not stop an export."""

from __future__ import annotations

import pytest

from exporter.progress import Progress, Throttled


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.reports: list[Progress] = []

    def report(self, progress: Progress) -> None:
        self.reports.append(progress)


def test_at_most_one_report_per_interval() -> None:
    clock, recorder = Clock(), Recorder()
    throttled = Throttled(recorder, total_rows=1000, interval=1.0, clock=clock)

    for rows in range(0, 1000, 10):  # 100 updates over 2.5 seconds
        clock.now += 0.025
        throttled.update(rows)

    assert [p.rows_written for p in recorder.reports] == [390, 790]
    assert [p.percentage for p in recorder.reports] == [39, 79]


def test_finish_reports_done_at_100_percent() -> None:
    clock, recorder = Clock(), Recorder()
    throttled = Throttled(recorder, total_rows=1000, interval=1.0, clock=clock)

    clock.now += 3
    throttled.finish(1000)

    (last,) = recorder.reports
    assert last.done and last.percentage == 100 and last.rows_written == 1000
    assert last.elapsed_seconds == 3


def test_percentage_stays_below_100_until_done() -> None:
    assert Progress(1000, 1000, 1.0).percentage == 99
    assert Progress(0, 0, 1.0).percentage is None


def test_a_failing_reporter_is_logged_once_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def report(self, progress: Progress) -> None:
            raise RuntimeError("API down")

    clock = Clock()
    throttled = Throttled(Broken(), total_rows=10, interval=1.0, clock=clock)

    for rows in range(5):
        clock.now += 1.5
        throttled.update(rows)
    throttled.finish(10)

    failures = [r for r in caplog.records if r.getMessage() == "progress_report_failed"]
    assert len(failures) == 1
