"""Who the simulated players are and how they behave: persona mix, think time, impatience."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from spikekit.scenarios.durations import Duration


class Persona(StrEnum):
    """The player journeys of the load engine."""

    SLOT_PLAYER = "slot_player"  # login → lobby → launch → rounds → sometimes deposit
    HIGH_ROLLER = "high_roller"  # few players, big bets, frequent deposits
    DEPOSITOR = "depositor"  # login → deposit → balance, the payment path
    LOBBY_BROWSER = "lobby_browser"  # login → lobby, browsing, rarely plays
    NEW_REGISTRANT = "new_registrant"  # register → login → first deposit


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_WEIGHT = "Relative weight (any non-negative number; weights are normalised)."


class PersonaMix(_Model):
    """Relative weights of the personas; only their ratios matter."""

    slot_player: float = Field(default=60, ge=0, description=_WEIGHT)
    high_roller: float = Field(default=3, ge=0, description=_WEIGHT)
    depositor: float = Field(default=12, ge=0, description=_WEIGHT)
    lobby_browser: float = Field(default=20, ge=0, description=_WEIGHT)
    new_registrant: float = Field(default=5, ge=0, description=_WEIGHT)

    @model_validator(mode="after")
    def _some_weight(self) -> PersonaMix:
        if self.total <= 0:
            raise ValueError("expected at least one persona weight above 0")
        return self

    @property
    def total(self) -> float:
        return sum(self.weights().values())

    def weights(self) -> dict[Persona, float]:
        """Each persona's weight, as written."""
        return {persona: float(getattr(self, persona.value)) for persona in Persona}

    def shares(self) -> dict[Persona, float]:
        """Each persona's share of the players, summing to 1."""
        total = self.total
        return {persona: weight / total for persona, weight in self.weights().items()}


class ThinkTime(_Model):
    """The rhythm of one player's actions: an interval drawn uniformly in ``[min, max]``.

    Not paced (the default): the interval is a pause after each answer, so a slow platform
    slows its players down. Paced (``pacing: true``): it is the time between the *starts*
    of two consecutive actions, each due at the previous one's intended start plus the
    interval; a late action is measured from when it was due (coordinated omission).
    """

    min: Annotated[Duration, Field(ge=0, description="Shortest interval, e.g. 1s.")] = 1.0
    max: Annotated[Duration, Field(ge=0, description="Longest interval, e.g. 5s.")] = 5.0
    pacing: bool = Field(
        default=False,
        description=(
            "true: the interval is between the starts of consecutive actions, and a late "
            "action's latency counts from when it was due; false: a pause after each answer."
        ),
    )

    @model_validator(mode="after")
    def _ordered(self) -> ThinkTime:
        if self.min > self.max:
            raise ValueError(f"expected min <= max, got min={self.min:g}s, max={self.max:g}s")
        return self


class Impatience(_Model):
    """Players retry and refresh when the site is slow or failing: retry storms are part of
    every spike."""

    retry_on_failure: float = Field(
        default=0.6, ge=0, le=1, description="Probability of retrying a failed request."
    )
    refresh_on_slow: float = Field(
        default=0.3, ge=0, le=1, description="Probability of re-sending a slow request."
    )
    slow_threshold: Annotated[
        Duration, Field(gt=0, description="A request slower than this counts as slow.")
    ] = 3.0
    max_retries: int = Field(
        default=3, ge=0, le=20, description="Retries of one action before the player gives up."
    )


class GameFocus(_Model):
    """Concentrate game launches and rounds on one game family (a promotion, a jackpot)."""

    family: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Game family to favour, e.g. jackpot (none = the platform's normal mix).",
    )
    share: float = Field(
        default=0.8, ge=0, le=1, description="Share of launches that go to that family."
    )
