"""A provider's rules without I/O: the RTP draw, round and transaction ids, session tokens,
and the token bucket behind rate limits.

The draw: a round is a win with probability ``hit = rtp / mean_multiplier`` (the mean of
the family's paytable of winning multipliers); a win pays ``round(bet * multiplier)``
drawn from the paytable. So the expected payout is ``rtp * bet`` (up to the rounding to
minor units), whatever the paytable, and the same seed gives the same outcomes.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Paytable:
    """Winning multipliers and their relative weights."""

    multipliers: tuple[float, ...]
    weights: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(m * w for m, w in zip(self.multipliers, self.weights, strict=True)) / sum(
            self.weights
        )

    def hit_rate(self, rtp: float) -> float:
        """The share of winning rounds that gives ``rtp``."""
        rate = rtp / self.mean
        if not 0 < rate <= 1:
            raise ValueError(f"rtp {rtp} is out of reach of a paytable with mean {self.mean:.3f}")
        return rate


PAYTABLES: dict[str, Paytable] = {
    "slots": Paytable((0.5, 1, 2, 3, 5, 10, 25, 50), (30, 25, 20, 10, 8, 4, 2, 1)),
    "jackpot": Paytable((1, 2, 5, 20, 100, 500), (40, 30, 20, 8, 1.8, 0.2)),
    "live": Paytable((2.0,), (1,)),
    "crash": Paytable((1.2, 1.5, 2, 3, 5, 10, 50), (30, 25, 20, 12, 8, 4, 1)),
}


class OutcomeDraw:
    """Draws round outcomes from a seeded RNG (one per process: same seed, same outcomes)."""

    def __init__(self, seed: int, rtp: float) -> None:
        self.rng = random.Random(seed)
        self.rtp = rtp

    def win(self, bet: int, family: str) -> int:
        """The win in minor units for a bet of ``bet`` (0 for a loss)."""
        table = PAYTABLES[family]
        if self.rng.random() >= table.hit_rate(self.rtp):
            return 0
        multiplier = self.rng.choices(table.multipliers, table.weights)[0]
        return round(bet * multiplier)


@dataclass(frozen=True)
class RoundIds:
    """Ids of one round and its wallet transactions (the wallet's idempotency keys)."""

    round_id: str

    @classmethod
    def new(cls, studio: str) -> RoundIds:
        return cls(f"{studio}-{uuid.uuid4().hex}")

    @property
    def bet_tx(self) -> str:
        return f"{self.round_id}-bet"

    @property
    def win_tx(self) -> str:
        return f"{self.round_id}-win"

    @property
    def rollback_tx(self) -> str:
        return f"{self.round_id}-rb"


def session_token(secret: str, studio: str, player_id: str, game: str) -> str:
    """``<studio>.<mac>``: a game session any replica of the studio can verify, no state."""
    mac = hmac.new(secret.encode(), f"{player_id}|{game}".encode(), hashlib.sha256)
    return f"{studio}.{mac.hexdigest()[:24]}"


def session_valid(secret: str, studio: str, player_id: str, game: str, token: str) -> bool:
    return hmac.compare_digest(session_token(secret, studio, player_id, game), token)


class TokenBucket:
    """``rate`` tokens per second, at most ``burst``; ``take(now)`` is False when empty."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.tokens = self.burst
        self.stamp: float | None = None

    def take(self, now: float) -> bool:
        if self.stamp is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
