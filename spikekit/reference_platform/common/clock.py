"""The clock the platform's loops wait on, injectable so unit tests never sleep.

Code that measures or waits (a consumer's backoff and reclaim interval, a studio's hang
and latency faults) takes a :class:`Clock`; production wires :data:`MONOTONIC` by
default, and unit tests a fake advanced by hand (``tests/unit/fake_clock.py``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds, and a wait on the same time line."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic()`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


MONOTONIC: Clock = MonotonicClock()


async def wait_event(event: asyncio.Event, timeout_s: float, clock: Clock = MONOTONIC) -> bool:
    """Wait until ``event`` is set or ``timeout_s`` has passed on ``clock``; True when set."""
    waiter = asyncio.ensure_future(event.wait())
    timer = asyncio.ensure_future(clock.sleep(timeout_s))
    try:
        await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        timer.cancel()
        await asyncio.gather(waiter, timer, return_exceptions=True)
    return event.is_set()
