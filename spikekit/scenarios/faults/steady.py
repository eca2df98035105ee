"""A fault's steady-state gate: the SLOs the platform must be within before it goes on."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from spikekit.scenarios.durations import Duration

__all__ = ["SteadyState"]


class SteadyState(BaseModel):
    """Inject only when the platform is within ``slos`` (names of the scenario's SLOs);
    wait up to ``within`` for it, else skip the fault ("not injected: platform not steady")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slos: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="Names of the scenario's SLOs the platform must be within."
    )
    within: Annotated[
        Duration, Field(gt=0, le=3600, description="How long the fault waits for it, e.g. 30s.")
    ] = 30.0
