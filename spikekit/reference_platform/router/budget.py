"""A retry budget: retries may add at most ``ratio`` of the requests (plus a small floor).

Each request deposits ``ratio`` tokens, each retry spends one; tokens also accrue at
``min_per_s`` so that a quiet router can still retry. When the budget is empty a
failing call is not retried: during an outage the retries stop multiplying the load.
"""

from __future__ import annotations


class RetryBudget:
    def __init__(self, ratio: float, min_per_s: float, cap: float = 100.0) -> None:
        self.ratio = ratio
        self.min_per_s = min_per_s
        self.cap = cap
        self.tokens = cap / 10
        self.stamp: float | None = None
        self.exhausted = 0

    def _refill(self, now: float) -> None:
        if self.stamp is not None:
            self.tokens = min(self.cap, self.tokens + (now - self.stamp) * self.min_per_s)
        self.stamp = now

    def record_request(self, now: float) -> None:
        self._refill(now)
        self.tokens = min(self.cap, self.tokens + self.ratio)

    def try_spend(self, now: float) -> bool:
        """True (and one token spent) when a retry is allowed."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.exhausted += 1
        return False


class Unlimited(RetryBudget):
    """No budget (the fragile profile): every retry is allowed."""

    def __init__(self) -> None:
        super().__init__(ratio=0.0, min_per_s=0.0)

    def try_spend(self, now: float) -> bool:
        return True
