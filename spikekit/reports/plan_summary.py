"""The ``capacity`` key of ``summary.json``: the capacity plan measured vs predicted.

Built from the run directory alone (``capacity_plan.json`` and the run's own data, through
:mod:`spikekit.analysis.plan_check`), so ``spikekit report RUN_DIR`` gives it back
identically. A run without a plan has ``available: false`` and ``needs``, one sentence.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from spikekit.analysis.plan_check import NEEDS, check_plan
from spikekit.analysis.rundir import RunData
from spikekit.rundir.plan import Provenance, UslRecord, read_plan


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartVs(_Model):
    part: str
    kind: str
    predicted_cores: float
    predicted_low: float
    predicted_high: float
    measured_cores: float | None
    error: float | None  # (predicted − measured) / measured


class StepVs(_Model):
    index: int
    start_s: float
    end_s: float
    players: int
    predicted_rps: float
    measured_rps: float | None
    rps_error: float | None
    parts: list[PartVs]


class CapacitySummary(_Model):
    available: bool
    needs: str | None = None  # why there is no plan, and what it needs
    provenance: Provenance | None = None
    steps: list[StepVs] = []
    usl: UslRecord | None = None
    shared_cores: str | None = None  # the note on replicas sharing this machine's cores


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def capacity_summary(run: RunData) -> CapacitySummary:
    plan, problem = read_plan(run.path)
    if plan is None:
        return CapacitySummary(available=False, needs=problem or NEEDS)
    checks = check_plan(plan, run.timeseries, run.platform_metrics, run.duration_s)
    cores = plan.provenance.cores
    return CapacitySummary(
        available=True,
        provenance=plan.provenance,
        steps=[
            StepVs(
                index=c.index,
                start_s=c.start_s,
                end_s=c.end_s,
                players=c.players,
                predicted_rps=c.predicted_rps,
                measured_rps=_finite(c.measured_rps),
                rps_error=_finite(c.rps_error),
                parts=[
                    PartVs(
                        part=p.part,
                        kind=p.kind,
                        predicted_cores=p.predicted.point,
                        predicted_low=p.predicted.low,
                        predicted_high=p.predicted.high,
                        measured_cores=_finite(p.measured),
                        error=_finite(p.error),
                    )
                    for p in c.parts
                ],
            )
            for c in checks
        ],
        usl=plan.usl,
        shared_cores=(
            f"The costs and the scaling law were measured on {cores} core"
            f"{'s' if cores > 1 else ''}: replicas there share the same cores, so the law "
            "says where more replicas stop helping on that machine, not on a larger one."
        ),
    )
