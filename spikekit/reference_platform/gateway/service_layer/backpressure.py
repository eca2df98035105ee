"""A per-replica bound on requests in flight: beyond it, refuse at once instead of queueing.

A replica that accepts every request under a spike queues them behind slow
dependencies until every one of them times out; one that refuses the excess
with 503 + ``Retry-After`` keeps answering the rest within their deadline and
tells clients when to come back. :class:`InFlightBound` is the counter (no I/O,
single event loop, so no lock); ``limit=None`` counts without refusing (the
fragile profile).
"""

from __future__ import annotations

from collections.abc import Callable


class InFlightBound:
    def __init__(
        self,
        limit: int | None,
        on_change: Callable[[int], None] | None = None,
        on_reject: Callable[[], None] | None = None,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"an in-flight bound must be >= 1, got {limit}")
        self.limit = limit
        self.in_flight = 0
        self.rejected = 0
        self._on_change = on_change
        self._on_reject = on_reject

    def try_enter(self) -> bool:
        """Admit one more request, or refuse it (the caller answers 503)."""
        if self.limit is not None and self.in_flight >= self.limit:
            self.rejected += 1
            if self._on_reject is not None:
                self._on_reject()
            return False
        self.in_flight += 1
        if self._on_change is not None:
            self._on_change(self.in_flight)
        return True

    def leave(self) -> None:
        if self.in_flight <= 0:
            raise RuntimeError("leave() without a matching try_enter()")
        self.in_flight -= 1
        if self._on_change is not None:
            self._on_change(self.in_flight)
