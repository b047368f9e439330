"""Polling with a deadline, for every suite: tests wait for a condition, never for a time.

`eventually` is for async suites, `eventually_sync` for sync ones (the end-to-end tests talk
to real processes over blocking HTTP); both mean the same thing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class _Deadline:
    """The shared rules: an AssertionError from the probe means "not yet", and the last one is
    chained to the timeout so that the failure says what was still wrong."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.at = time.monotonic() + timeout
        self.last_error: AssertionError | None = None

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise AssertionError(f"condition not met within {self.timeout}s") from self.last_error


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float, interval: float = 0.05
) -> T:
    """Poll `probe` until it returns something truthy (returned) or the deadline passes."""
    deadline = _Deadline(timeout)
    while True:
        try:
            value = await probe()
            if value:
                return value
        except AssertionError as error:
            deadline.last_error = error
        deadline.check()
        await asyncio.sleep(interval)


def eventually_sync(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.2) -> T:
    """`eventually` for blocking code: poll `probe` until it returns something truthy."""
    deadline = _Deadline(timeout)
    while True:
        try:
            value = probe()
            if value:
                return value
        except AssertionError as error:
            deadline.last_error = error
        deadline.check()
        time.sleep(interval)
