"""The capacity plan a run writes at its start: ``capacity_plan.json`` (its format:
:mod:`spikekit.rundir.plan`).

The report may read only the run directory, so the prediction is put there by the run:
for each step of the load shape (a held level of players) the requests a second and the
CPU cores per part the plan predicts (:func:`spikekit.plan.model.make_plan` at that
step's players), the costs' provenance, and the scaling law of the hottest service with
its bootstrap band. Only a target with measured costs gets one: the bundled platform,
once ``python -m bench --only platform`` wrote ``capacity.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikekit.errors import SpikekitError
from spikekit.plan import usl
from spikekit.plan.measured import bundled_costs, read_scaling
from spikekit.plan.model import MeasuredCosts, make_plan
from spikekit.plan.sizing import Peak, Range
from spikekit.reference_platform.capacity import PlatformCapacity, read_capacity
from spikekit.run.capacity_check import holding_of, rps_per_player
from spikekit.rundir.plan import (
    CapacityPlanFile,
    CurvePoint,
    PartPrediction,
    PredictedStep,
    Provenance,
    Span,
    UslRecord,
    write_plan,
)
from spikekit.scenarios import Scenario
from spikekit.scenarios.stages import ClosedLoad, ClosedStage, OpenLoad, Ramp
from spikekit.scenarios.target import PlatformTarget

#: Seconds of a hold left out after the ramp before it (the load settles), at most ...
SETTLE_S = 10.0
#: ... this share of the hold.
SETTLE_SHARE = 0.3
#: The curve is drawn from 1 replica to at least this many, in quarter steps.
CURVE_MIN_REPLICAS = 6
CURVE_MAX_REPLICAS = 24


@dataclass(frozen=True)
class Hold:
    start_s: float
    end_s: float
    players: int


def holds(scenario: Scenario) -> list[Hold]:
    """The held levels of the load shape on the run clock (``duration_scale`` and ``scale``
    applied), the first settling seconds of each left out. A shape without a hold gives
    one: the second half of the stage that reaches its peak."""
    load = scenario.load
    players = _Players(load, scenario.scale)
    level = load.start_players if isinstance(load, ClosedLoad) else load.start_arrivals_per_s
    t, found = 0.0, list[Hold]()
    peak: tuple[float, Hold] | None = None
    for stage in load.stages:
        value = float(stage.players if isinstance(stage, ClosedStage) else stage.arrivals_per_s)
        end = t + stage.duration * scenario.duration_scale
        if (value == level or stage.ramp is Ramp.STEP) and players(value) > 0:
            settle = min(SETTLE_S, SETTLE_SHARE * (end - t))
            found.append(Hold(t + settle, end, players(value)))
        if peak is None or value > peak[0]:
            peak = (value, Hold((t + end) / 2, end, players(value)))
        t, level = end, value
    if not found and peak is not None and peak[1].players > 0:
        found.append(peak[1])
    return found


@dataclass(frozen=True)
class _Players:
    load: ClosedLoad | OpenLoad
    scale: float

    def __call__(self, level: float) -> int:
        if isinstance(self.load, ClosedLoad):
            return round(level * self.scale)
        concurrent = level * self.load.session_length
        if self.load.max_players is not None:
            concurrent = min(concurrent, float(self.load.max_players))
        return round(concurrent * self.scale)


def record_plan(run_dir: Path, scenario: Scenario) -> Path | None:
    """Write ``capacity_plan.json`` when the target has measured costs; None otherwise (a
    platform of your own, or no platform bench figure): the report then says what is
    needed. A figure that cannot be read is no reason to stop a run: no file either."""
    if not isinstance(scenario.target, PlatformTarget):
        return None
    try:
        capacity = read_capacity()
        measured = bundled_costs()
    except SpikekitError:
        return None
    if capacity is None or measured is None:
        return None
    steps = holds(scenario)
    if not steps:
        return None
    try:
        return write_plan(run_dir, build_plan(scenario, capacity, measured, steps))
    except OSError:  # a full disk: the run goes on, the report says what is missing
        return None


def build_plan(
    scenario: Scenario, capacity: PlatformCapacity, measured: MeasuredCosts, steps: list[Hold]
) -> CapacityPlanFile:
    holding = holding_of(capacity, measured.cores, "no bench figure")
    per_player = rps_per_player(scenario, holding.answer_s)
    predicted: list[PredictedStep] = []
    extrapolated: list[str] = []
    for index, hold in enumerate(steps):
        peak = Peak(players=hold.players, rps=hold.players * per_player, knee_rps=measured.knee_rps)
        plan = make_plan(scenario.name, peak, measured)
        extrapolated.extend(note for note in plan.extrapolated if note not in extrapolated)
        predicted.append(
            PredictedStep(
                index=index,
                start_s=hold.start_s,
                end_s=hold.end_s,
                players=hold.players,
                rps=peak.rps,
                parts=[
                    PartPrediction(part=p.part, kind=p.kind.value, cores=_span(p.cores))
                    for p in plan.parts
                ],
            )
        )
    extrapolated.append(
        "CPU per request of each part: the knee's figure ±15 % (one measured point); the "
        "request mix of baseline's personas"
    )
    scaling = read_scaling()
    record = None
    if measured.usl is not None and scaling is not None and measured.usl_part is not None:
        record = usl_record(measured.usl, measured.usl_part, scaling.steps)
    measured_list = [
        f"CPU per request by process at the knee ({capacity.knee_players:,} players, "
        f"{capacity.knee_rps:,.0f} req/s)",
        f"requests a second per player ({capacity.rps_per_player:.3f})",
    ]
    if scaling is not None:
        measured_list.append(
            f"served req/s at {', '.join(str(n) for n in sorted(scaling.steps))} replicas of "
            f"{scaling.part} ({scaling.date})"
        )
    return CapacityPlanFile(
        scenario=scenario.name,
        provenance=Provenance(
            source=measured.source,
            date=capacity.date,
            commit=capacity.commit or "commit unknown",
            cores=capacity.cores,
            machine=capacity.cpu_model,
            measured=measured_list,
            extrapolated=extrapolated,
        ),
        steps=predicted,
        usl=record,
    )


def usl_record(fit: usl.UslFit, part: str, samples: Mapping[int, Sequence[float]]) -> UslRecord:
    """The fit as the report draws it: X(N) with its bootstrap band (5th–95th percentile
    of the law refitted on resampled seconds, as :func:`spikekit.plan.usl.fit` does)."""
    clean = {n: np.asarray(v, dtype=float) for n, v in samples.items() if len(v) > 0}
    rng = np.random.default_rng(0)
    draws: list[usl.Usl] = []
    for _ in range(usl.BOOTSTRAP):
        resampled = {n: float(rng.choice(v, size=len(v)).mean()) for n, v in clean.items()}
        try:
            draws.append(usl.fit_coefficients(resampled))
        except usl.FitError:
            continue
    star = fit.law.peak_replicas
    top = max(CURVE_MIN_REPLICAS, max(clean, default=1) + 2)
    if math.isfinite(star):
        top = max(top, math.ceil(star) + 2)
    top = min(top, CURVE_MAX_REPLICAS)
    curve = []
    for n in np.arange(1.0, top + 0.001, 0.25):
        values = [d.throughput(float(n)) for d in draws] or [fit.law.throughput(float(n))]
        low, high = np.percentile(np.asarray(values), usl.INTERVAL)
        curve.append(
            CurvePoint(
                replicas=float(n), rps=_span(Range.of(fit.law.throughput(float(n)), low, high))
            )
        )
    return UslRecord(
        part=part,
        sigma=_span(Range.of(fit.law.sigma, fit.sigma.low, fit.sigma.high)),
        kappa=_span(Range.of(fit.law.kappa, fit.kappa.low, fit.kappa.high)),
        peak_replicas=(
            _span(Range.of(star, fit.peak_replicas.low, fit.peak_replicas.high))
            if math.isfinite(star)
            else None
        ),
        samples={int(n): [float(x) for x in v] for n, v in samples.items()},
        curve=curve,
    )


def _span(r: Range) -> Span:
    return Span(point=float(r.point), low=float(r.low), high=float(r.high))
