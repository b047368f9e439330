"""The time, as a parameter: what the expiry (410 Gone) and retention paths call for "now".

Production passes `system_clock`; the development stack can run a program with its clock moved
ahead (`devstack.timeshift`), so that a test sees an export expire without waiting for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def shifted(seconds: float, clock: Clock = system_clock) -> Clock:
    """`clock`, `seconds` ahead (behind when negative)."""
    offset = dt.timedelta(seconds=seconds)

    def now() -> dt.datetime:
        return clock() + offset

    return now
