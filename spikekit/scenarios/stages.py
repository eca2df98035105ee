"""The load a scenario applies, as stages: a closed model of concurrent players or an open
model of arriving player sessions.

A stage moves the level (players, or sessions per second) from where the previous stage
ended to its own value over its duration, along its ramp curve:

- ``linear``: a straight line;
- ``exponential``: geometric growth or decay (a viral spike doubles, it does not add);
  levels below 1 are treated as 1 so that a ramp from zero is defined;
- ``step``: jump at the start of the stage, then hold.

A stage whose value equals the previous level is a hold, whatever its ramp.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from spikekit.scenarios.durations import Duration


class Ramp(StrEnum):
    """How a stage moves from the previous level to its own."""

    LINEAR = "linear"
    EXPONENTIAL = "exponential"
    STEP = "step"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClosedStage(_Model):
    """Concurrent players at the end of the stage, reached over ``duration``."""

    duration: Annotated[Duration, Field(gt=0, description="Length of the stage, e.g. 3m.")]
    players: int = Field(ge=0, description="Concurrent players at the end of the stage.")
    ramp: Ramp = Field(default=Ramp.LINEAR, description="linear, exponential or step.")


class OpenStage(_Model):
    """New player sessions per second at the end of the stage, reached over ``duration``."""

    duration: Annotated[Duration, Field(gt=0, description="Length of the stage, e.g. 3m.")]
    arrivals_per_s: float = Field(
        ge=0, description="New player sessions starting each second at the end of the stage."
    )
    ramp: Ramp = Field(default=Ramp.LINEAR, description="linear, exponential or step.")


class ClosedLoad(_Model):
    """A fixed number of concurrent players that follows the stages (Locust's users)."""

    model: Literal["closed"] = Field(description="closed: concurrent players per stage.")
    start_players: int = Field(default=0, ge=0, description="Players at t=0, before stage 1.")
    stages: list[ClosedStage] = Field(min_length=1, description="The stages, in order.")

    @property
    def duration_s(self) -> float:
        return sum(stage.duration for stage in self.stages)

    @property
    def peak(self) -> float:
        return float(max([self.start_players, *(stage.players for stage in self.stages)]))


class OpenLoad(_Model):
    """Player sessions arrive at a rate, whether or not the site is slow: a viral spike."""

    model: Literal["open"] = Field(description="open: new player sessions per second.")
    start_arrivals_per_s: float = Field(
        default=0, ge=0, description="Arrivals per second at t=0, before stage 1."
    )
    stages: list[OpenStage] = Field(min_length=1, description="The stages, in order.")
    session_length: Annotated[
        Duration,
        Field(
            gt=0,
            description="Mean length of one player session; concurrent players are about "
            "arrivals/s x session length (Little's law).",
        ),
    ] = 300.0
    max_players: int | None = Field(
        default=None,
        ge=1,
        description="Cap on concurrent sessions the generator keeps (none = no cap).",
    )

    @property
    def duration_s(self) -> float:
        return sum(stage.duration for stage in self.stages)

    @property
    def peak(self) -> float:
        return max([self.start_arrivals_per_s, *(stage.arrivals_per_s for stage in self.stages)])

    @property
    def peak_players(self) -> float:
        """Little's-law estimate of the concurrent sessions at the peak arrival rate."""
        estimate = self.peak * self.session_length
        return estimate if self.max_players is None else min(estimate, float(self.max_players))


#: The load of a scenario, chosen by ``model: closed | open``.
LoadModel = Annotated[ClosedLoad | OpenLoad, Field(discriminator="model")]
