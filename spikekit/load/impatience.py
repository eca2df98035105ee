"""How an impatient player reacts to a failed or slow answer: retry, refresh or give up.

Pure: the personas ask :class:`ImpatiencePolicy` after every attempt and sleep for the delay
it returns. The rules, per attempt of one action (``attempt`` counts retries so far):

- **failed** (error status, connection error): with probability ``retry_on_failure`` the
  player is impatient and clicks again after a short pause, ignoring any ``Retry-After``;
  otherwise, when the answer carried ``Retry-After``, the player honours it (capped) and
  tries once more; without it the player gives up on the action.
- **slow** (succeeded, but slower than ``slow_threshold``): with probability
  ``refresh_on_slow`` the player re-sends the same request (a refresh).
- never more than ``max_retries`` retries of one action.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from spikekit.scenarios.personas import Impatience

#: Pause of an impatient "click again" (seconds).
IMPATIENT_PAUSE_S = (0.1, 0.5)
#: Pause before a refresh of a slow answer (seconds).
REFRESH_PAUSE_S = (0.0, 0.3)
#: The longest ``Retry-After`` a patient player waits.
MAX_RETRY_AFTER_S = 30.0


class Outcome(StrEnum):
    OK = "ok"
    SLOW = "slow"
    FAILED = "failed"


class Reaction(StrEnum):
    DONE = "done"  # the answer is taken as it is
    RETRY_IMPATIENT = "retry_impatient"  # clicked again at once, Retry-After ignored
    RETRY_AFTER = "retry_after"  # waited as the platform asked, then tried again
    REFRESH = "refresh"  # re-sent a slow request
    GIVE_UP = "give_up"  # failed, no retry


@dataclass(frozen=True)
class Decision:
    reaction: Reaction
    delay_s: float = 0.0

    @property
    def again(self) -> bool:
        return self.reaction in (Reaction.RETRY_IMPATIENT, Reaction.RETRY_AFTER, Reaction.REFRESH)


def classify(*, ok: bool, elapsed_s: float, slow_threshold_s: float) -> Outcome:
    if not ok:
        return Outcome.FAILED
    return Outcome.SLOW if elapsed_s > slow_threshold_s else Outcome.OK


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the delta-seconds form; an HTTP date is ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class ImpatiencePolicy:
    """The scenario's impatience with a random source of its own (seeded per player)."""

    def __init__(self, impatience: Impatience, rng: random.Random) -> None:
        self.impatience = impatience
        self.rng = rng

    def decide(self, outcome: Outcome, attempt: int, retry_after_s: float | None) -> Decision:
        if outcome is Outcome.OK:
            return Decision(Reaction.DONE)
        may_retry = attempt < self.impatience.max_retries
        if outcome is Outcome.SLOW:
            if may_retry and self.rng.random() < self.impatience.refresh_on_slow:
                return Decision(Reaction.REFRESH, self.rng.uniform(*REFRESH_PAUSE_S))
            return Decision(Reaction.DONE)
        if not may_retry:
            return Decision(Reaction.GIVE_UP)
        if self.rng.random() < self.impatience.retry_on_failure:
            return Decision(Reaction.RETRY_IMPATIENT, self.rng.uniform(*IMPATIENT_PAUSE_S))
        if retry_after_s is not None:
            return Decision(Reaction.RETRY_AFTER, min(retry_after_s, MAX_RETRY_AFTER_S))
        return Decision(Reaction.GIVE_UP)
