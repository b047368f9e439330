"""Polling with a deadline, for every suite: tests wait for a condition, never for a time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float, interval: float = 0.05
) -> T:
    """Poll `probe` until it returns something truthy (returned) or the deadline passes.

    An AssertionError from the probe counts as "not yet"; the last one is chained on timeout.
    """
    deadline = time.monotonic() + timeout
    last_error: AssertionError | None = None
    while True:
        try:
            value = await probe()
            if value:
                return value
        except AssertionError as error:
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s") from last_error
        await asyncio.sleep(interval)
