"""The capacity plan against the run: per step, predicted vs measured. Pure on the data.

The prediction is the run directory's ``capacity_plan.json`` (:mod:`spikekit.rundir.plan`);
the measurement, over each step's window: the requests a second served (``"*"`` rows of
``timeseries.parquet``, failures left out) and, per part, the CPU cores its processes
used (``process_cpu_percent`` of ``platform_metrics.parquet``, per service as the CPU
hints read it, :func:`spikekit.analysis.hints.process_cpu`). A part the run did not
watch (Toxiproxy, the load generator, the run itself) has no measured figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spikekit.analysis.hints import process_cpu
from spikekit.rundir.plan import CapacityPlanFile, PredictedStep, Span

#: What a run without ``capacity_plan.json`` needs for the section (one sentence).
NEEDS = (
    "No capacity plan for this run: it needs measured per-request costs of the target, "
    "for the bundled platform `python -m bench --only platform` (capacity.json) before "
    "the run; for a platform of your own, plan it from a step run of it: `spikekit plan "
    "SCENARIO --from-run RUN_DIR` (docs/sizing.md)."
)


@dataclass(frozen=True)
class PartCheck:
    part: str
    kind: str
    predicted: Span
    measured: float | None  # cores, mean over the step's window
    error: float | None  # (predicted − measured) / measured


@dataclass(frozen=True)
class StepCheck:
    index: int
    start_s: float
    end_s: float
    players: int
    predicted_rps: float
    measured_rps: float | None
    rps_error: float | None
    parts: tuple[PartCheck, ...]


def error_of(predicted: float, measured: float | None) -> float | None:
    if measured is None or measured <= 0.0:
        return None
    return (predicted - measured) / measured


def served_rps(timeseries: Any, start_s: float, end_s: float) -> float | None:
    """Mean served (not failed) requests a second of the ``"*"`` rows in [start, end)."""
    rows = timeseries[
        (timeseries["endpoint"] == "*") & (timeseries["t"] >= start_s) & (timeseries["t"] < end_s)
    ]
    seconds = int(np.ceil(end_s) - np.ceil(start_s))
    if rows.empty or seconds <= 0:
        return None
    served = float((rows["requests"] - rows["failures"]).sum())
    return served / seconds


def cores_by_part(metrics: Any, n: int, start_s: float, end_s: float) -> dict[str, float]:
    """CPU cores per service (its processes summed), mean over the window's seconds."""
    lo, hi = max(0, int(np.ceil(start_s))), min(n, int(np.ceil(end_s)))
    if hi <= lo or metrics is None or len(metrics) == 0:
        return {}
    out: dict[str, float] = {}
    for (service, _labels), cpu in process_cpu(metrics, n).items():
        window = cpu[lo:hi]
        if np.isnan(window).all():
            continue
        out[service] = out.get(service, 0.0) + float(np.nanmean(window)) / 100.0
    return out


def check_step(step: PredictedStep, timeseries: Any, metrics: Any, n: int) -> StepCheck:
    rps = served_rps(timeseries, step.start_s, step.end_s)
    cores = cores_by_part(metrics, n, step.start_s, step.end_s)
    parts = tuple(
        PartCheck(
            part=p.part,
            kind=p.kind,
            predicted=p.cores,
            measured=cores.get(p.part),
            error=error_of(p.cores.point, cores.get(p.part)),
        )
        for p in step.parts
    )
    return StepCheck(
        index=step.index,
        start_s=step.start_s,
        end_s=step.end_s,
        players=step.players,
        predicted_rps=step.rps,
        measured_rps=rps,
        rps_error=error_of(step.rps, rps),
        parts=parts,
    )


def check_plan(plan: CapacityPlanFile, timeseries: Any, metrics: Any, n: int) -> list[StepCheck]:
    """Every step of the plan that the run reached (a step past an early end is left out)."""
    return [check_step(s, timeseries, metrics, n) for s in plan.steps if s.start_s < n]
