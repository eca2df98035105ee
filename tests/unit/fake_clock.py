"""A fake of the platform's :class:`~spikekit.reference_platform.common.clock.Clock`,
advanced by hand, and a bounded wait for a condition: unit tests never sleep.

``sleep()`` returns once :meth:`FakeClock.advance` has moved the time past its end;
:func:`until` lets the event loop run the tasks until a condition holds (the thing a
test used to ``asyncio.sleep`` for), failing after a real-time bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class FakeClock:
    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self.slept: list[float] = []  # every wait asked for, in order
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.t

    @property
    def sleeping(self) -> int:
        """How many sleeps are waiting for the time to move."""
        return sum(not future.done() for _, future in self._sleepers)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.t + seconds, future))
        try:
            await future
        finally:
            self._sleepers = [s for s in self._sleepers if s[1] is not future]

    async def advance(self, seconds: float) -> None:
        """Move the time on, wake the sleeps that are due, and let them run."""
        self.t += seconds
        for due, future in self._sleepers:
            if due <= self.t and not future.done():
                future.set_result(None)
        for _ in range(3):
            await asyncio.sleep(0)


async def until(condition: Callable[[], object], timeout_s: float = 2.0) -> None:
    """Yield to the event loop until ``condition()`` is true; TimeoutError after ``timeout_s``."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)

    await asyncio.wait_for(poll(), timeout_s)
