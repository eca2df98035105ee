"""``scaling.json`` and the plan's inputs: what the benches measured, read in one place.

Two files travel with the code they measured:

- ``spikekit/reference_platform/capacity.json`` (:mod:`spikekit.reference_platform.capacity`,
  written by ``bench --only platform``): the knee, requests per player, CPU per request by
  process;
- ``spikekit/plan/scaling.json`` (this module, written by ``bench --only scaling``): the
  served throughput per second at 1, 2 and 3 replicas of the hottest service (the law's
  samples), the check at 4 replicas, and PostgreSQL commits and Redis commands counted
  over the same windows with the requests they served.

:func:`bundled_costs` puts them together as :class:`~spikekit.plan.model.MeasuredCosts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from spikekit.figures import read_figure, write_figure
from spikekit.plan import usl
from spikekit.plan.model import MeasuredCosts, merge_costs
from spikekit.plan.sizing import Peak, Range
from spikekit.reference_platform.capacity import PlatformCapacity, read_capacity
from spikekit.run.capacity_check import holding_of, rps_per_player
from spikekit.scenarios import Scenario

SCALING_FILE = Path(__file__).with_name("scaling.json")
#: With one measured point only, the cost's spread is taken as this much either side.
SINGLE_POINT_SPREAD = 0.15


class Counted(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=0)
    requests: int = Field(ge=0)


class ScalingFigures(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = 1
    part: str
    steps: dict[int, list[float]]  # replicas → served requests a second, per second
    checked_replicas: int
    checked_served: list[float]
    predicted_checked: float
    commits: list[Counted] = []
    commands: list[Counted] = []
    date: str
    source: str
    cores: int = Field(ge=1)

    def per_request(self, counts: list[Counted]) -> Range | None:
        rates = [c.count / c.requests for c in counts if c.requests > 0]
        if not rates:
            return None
        total = sum(c.count for c in counts) / sum(c.requests for c in counts)
        return Range.of(total, min(rates), max(rates))

    def check_error(self) -> float | None:
        if not self.checked_served:
            return None
        measured = sum(self.checked_served) / len(self.checked_served)
        return (self.predicted_checked - measured) / measured if measured > 0 else None


def read_scaling(path: Path = SCALING_FILE) -> ScalingFigures | None:
    return read_figure(path, ScalingFigures, "a scaling figure")


def write_scaling(figures: ScalingFigures, path: Path = SCALING_FILE) -> Path:
    return write_figure(figures, path)


def bundled_costs() -> MeasuredCosts | None:
    """The bundled platform's measured costs, or None when no platform bench ran."""
    capacity = read_capacity()
    return None if capacity is None else costs_from(capacity, read_scaling())


def costs_from(capacity: PlatformCapacity, scaling: ScalingFigures | None) -> MeasuredCosts | None:
    """A capacity figure (and the scaling steps of the same platform, if any) as plan
    inputs; None when the figure has no CPU by process."""
    if not capacity.cpu_ms_by_process:
        return None
    spread = SINGLE_POINT_SPREAD
    costs = merge_costs(
        {
            name: (ms, ms * (1 - spread), ms * (1 + spread))
            for name, ms in capacity.cpu_ms_by_process.items()
        }
    )
    source = (
        f"bench --only platform, {capacity.date}, {capacity.commit or 'commit unknown'}, "
        f"{capacity.cores} cores" + (f" ({capacity.cpu_model})" if capacity.cpu_model else "")
    )
    fit = None
    if scaling is not None:
        try:
            fit = usl.fit(scaling.steps)
        except usl.FitError:
            fit = None
        source += f"; bench --only scaling, {scaling.date}"
    return MeasuredCosts(
        source=source,
        cores=capacity.cores,
        knee_players=capacity.knee_players,
        knee_rps=capacity.knee_rps,
        rps_per_player=capacity.rps_per_player,
        costs=costs,
        commits_per_request=scaling.per_request(scaling.commits) if scaling else None,
        redis_commands_per_request=scaling.per_request(scaling.commands) if scaling else None,
        pgbench_commits_per_core=PGBENCH_TPCB_PER_CORE,
        usl=fit,
        usl_part=scaling.part if scaling else None,
    )


def peak_of(scenario: Scenario, measured: MeasuredCosts) -> Peak:
    """The scenario's peak players and their requests a second, at the answer time the
    platform bench saw (as the dry run's machine check counts them)."""
    answer_s = measured.answer_s
    if answer_s is None:
        answer_s = holding_of(read_capacity(), measured.cores, "no bench figure").answer_s
    players = int(scenario.peak_players)
    rps = players * rps_per_player(scenario, answer_s)
    return Peak(players=players, rps=rps, knee_rps=measured.knee_rps)


#: pgbench TPC-B on the embedded PostgreSQL here (FACTS.md: 3,913 TPS, 16 clients, 2 cores).
PGBENCH_TPCB_PER_CORE = 3913.0 / 2
