"""Pre-signed link lifetimes and retention deadlines (pure arithmetic)."""

from __future__ import annotations

import datetime as dt

from streamexport_operator.presign import link_lifetime
from streamexport_operator.retention import due_at, seconds_left

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
WEEK = 7 * 86400


def test_link_lives_seven_days_at_most() -> None:
    assert link_lifetime(NOW, None, 10 * 86400) == WEEK


def test_link_never_outlives_the_file() -> None:
    expires = NOW + dt.timedelta(days=2)
    assert link_lifetime(NOW, expires, WEEK) == 2 * 86400


def test_link_of_an_expired_file_still_gets_one_second() -> None:
    assert link_lifetime(NOW, NOW - dt.timedelta(days=1), WEEK) == 1


def test_retention_counts_from_completion() -> None:
    status = {"phase": "COMPLETED", "completedAt": "2026-03-01T11:00:00Z"}
    assert due_at(status, 30 * 86400) == dt.datetime(2026, 3, 31, 11, 0, tzinfo=dt.UTC)
    assert seconds_left(status, 3600, NOW) == 0
    assert seconds_left(status, 7200, NOW) == 3600


def test_zero_retention_keeps_exports() -> None:
    assert due_at({"phase": "COMPLETED", "completedAt": "2026-03-01T11:00:00Z"}, 0) is None


def test_unfinished_exports_are_never_due() -> None:
    assert due_at({"phase": "PROCESSING"}, 60) is None
    assert due_at({"phase": "FAILED"}, 60) is None  # no completedAt yet
