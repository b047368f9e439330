"""The clock that expiry and retention take as a parameter."""

from __future__ import annotations

import datetime as dt

from streamexport_core.clock import shifted, system_clock


def test_the_system_clock_is_aware_utc() -> None:
    assert system_clock().utcoffset() == dt.timedelta(0)


def test_a_shifted_clock_runs_ahead_of_its_base_by_the_offset() -> None:
    base = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    later = shifted(8 * 86400, lambda: base)
    assert later() == dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)
    assert shifted(-60, lambda: base)() == base - dt.timedelta(minutes=1)
