"""Benchmark 8 — the capacity model checked on this machine: a knee predicted, then measured.

The model the dry run and ``spikekit plan`` use (:mod:`spikekit.run.capacity_check`): the
bundled platform holds the requests per second the bench measured at its knee, and a
scenario's players each make ``1 / (think + answer)`` requests a second, so the players it
holds is that rate divided by the scenario's requests per player.

Two step runs in one invocation, back to back (:mod:`bench.platform_run`, the platform
bench's scenario, criterion and CPU sampling):

1. **the reference**: ``baseline``'s personas and think time (1–5 s), steps about 10 %
   apart around the platform bench's knee, so that its knee is known to within a step;
   its figure (:func:`bench.platform_section.capacity_of`) is the model's input;
2. **the variant**: the same personas at another pace (think 0.5–2.5 s, twice the requests
   per player), its knee *predicted* by :func:`~spikekit.run.capacity_check.check_fit`
   from the reference's figure before it runs, then measured with steps about 10 % apart
   around the prediction.

The error is ``predicted / measured - 1``, the measured knee being the highest step held;
as the true knee lies between that step and the next, the error's range is given too.
Holds are 33 s (30 s judged), not the platform bench's 63 s, so that both runs fit in
about 15 minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.harness import REPO, Config, Row, Section, command_line
from bench.platform_cpu import wait_for_quiet
from bench.platform_run import Measurement, Tree, describe_this_tree, measure, scenario_document
from bench.platform_section import capacity_of
from bench.platform_steps import Criterion, Schedule, schedule
from spikekit.reference_platform.capacity import PlatformCapacity, read_capacity
from spikekit.run.capacity_check import check_fit
from spikekit.scenarios import Scenario

VARIANT_THINK: dict[str, object] = {"min": 0.5, "max": 2.5, "pacing": False}
#: Steps relative to the centre (the recorded knee, or the prediction): about 10 % apart.
#: The reference starts far below the recorded knee: that figure may come from another day
#: (a machine whose cores are slower today holds fewer), and the reference's own knee, found
#: in this invocation, is the model's input.
SPREAD = tuple(round(0.3 * 1.1**k, 3) for k in range(19))  # 0.30 ... 1.67
VARIANT_SPREAD = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.32, 1.45, 1.6, 1.8, 2.0)
QUICK_SPREAD = (0.8, 1.0, 1.25)
ARRIVALS_PER_S = 10.0
HOLD_S, SETTLE_S, IDLE_S = 33.0, 3.0, 10.0
QUICK_HOLD_S = 15.0
ACCOUNTS = 10_000
CRITERION = Criterion()
QUIET_CORES = 0.5
DEFAULT_CENTRE = 1000  # without a platform bench figure
BOUND = 0.2  # the bar: |error| <= 20 %


def steps_around(centre: float, spread: tuple[float, ...]) -> tuple[int, ...]:
    """Player counts at ``centre x spread``, rounded to tens, increasing, no repeats."""
    counts = sorted({max(10, round(centre * f / 10.0) * 10) for f in spread})
    return tuple(counts)


@dataclass(frozen=True)
class Check:
    """The prediction against the measured knee."""

    predicted: int
    held: int | None  # the highest step held
    above: int | None  # the first step above it not held (None: the top step was held)

    @property
    def error(self) -> float | None:
        return self.predicted / self.held - 1.0 if self.held else None

    @property
    def error_range(self) -> tuple[float, float] | None:
        """The error if the true knee were anywhere in ``[held, above)``."""
        if not self.held:
            return None
        low = self.predicted / self.above - 1.0 if self.above else -math.inf
        return low, self.predicted / self.held - 1.0

    @property
    def met(self) -> bool:
        return self.error is not None and abs(self.error) <= BOUND


def predicted_knee(capacity: PlatformCapacity, plan: Schedule, cores: int) -> int:
    """The players the model says the variant's scenario holds on ``cores`` cores."""
    document = scenario_document(plan, CRITERION, ACCOUNTS, VARIANT_THINK)
    fit = check_fit(Scenario.model_validate(document), cores, capacity)
    assert fit is not None  # the bench scenario targets the bundled platform
    return fit.holds_players


def _plan(centre: float, spread: tuple[float, ...], config: Config) -> Schedule:
    hold = config.seconds(HOLD_S, QUICK_HOLD_S)
    return schedule(steps_around(centre, spread), ARRIVALS_PER_S, hold, SETTLE_S, IDLE_S)


def _measure(tree: Tree, plan: Schedule, config: Config, label: str, think: object) -> Measurement:
    print(f"  plan-check: {label}, steps {', '.join(f'{s.players:,}' for s in plan.steps)}")
    busy = wait_for_quiet(QUIET_CORES, config.seconds(30.0, 15.0))
    print(f"  plan-check: the machine's other work keeps {busy:.2f} cores busy", flush=True)
    think_time = think if isinstance(think, dict) else None
    measurement = measure(tree, plan, CRITERION, ACCOUNTS, config.work_dir, think_time, label)
    measurement.busy_before = busy
    return measurement


def run(config: Config) -> Section:
    tree = Tree("this tree", REPO, describe_this_tree())
    recorded = read_capacity()
    centre = recorded.knee_players if recorded else DEFAULT_CENTRE
    cores = recorded.cores if recorded else 2
    reference_plan = _plan(centre, QUICK_SPREAD if config.quick else SPREAD, config)
    reference = _measure(tree, reference_plan, config, "reference", None)
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    capacity = capacity_of(reference, command_line(), date)
    section = Section("plan-check", "8. Capacity model: a knee predicted, then measured", "")
    if capacity is None:
        section.rows.append(Row("reference knee", "none held", note=_steps(reference)))
        return section
    probe = _plan(100, (1.0,), config)  # only the think time and accounts matter here
    prediction = predicted_knee(capacity, probe, cores)
    variant_plan = _plan(prediction, QUICK_SPREAD if config.quick else VARIANT_SPREAD, config)
    variant = _measure(tree, variant_plan, config, "variant", VARIANT_THINK)
    knee = variant.knee
    check = Check(
        prediction,
        knee.held.step.players if knee.held else None,
        knee.above.step.players if knee.above else None,
    )
    section.rows += _rows(reference, capacity, variant, check)
    section.notes = _notes(reference, variant)
    return section


def _steps(measurement: Measurement) -> str:
    return "; ".join(
        f"{f.step.players:,}: {'held' if f.held else f.why or 'not held'}"
        for f in measurement.steps
    )


def _rows(
    reference: Measurement, capacity: PlatformCapacity, variant: Measurement, check: Check
) -> list[Row]:
    think = f"think {VARIANT_THINK['min']}–{VARIANT_THINK['max']} s"
    rows = [
        Row(
            "reference knee (baseline's think 1–5 s)",
            f"{capacity.knee_players:,} players, {capacity.knee_rps:,.0f} req/s",
            note=f"{'at least; ' if capacity.censored else ''}steps: {_steps(reference)}",
        ),
        Row(
            f"variant knee predicted ({think})",
            f"{check.predicted:,} players",
            note="check_fit(variant, cores, the reference's figure).holds_players, "
            "computed before the variant ran",
        ),
        Row(
            "variant knee measured",
            f"{check.held:,} players" if check.held else "none held",
            note=f"steps: {_steps(variant)}",
        ),
    ]
    error = check.error
    if error is not None:
        span = check.error_range
        assert span is not None
        low = "-inf" if math.isinf(span[0]) else f"{span[0]:+.1%}"
        rows.append(
            Row(
                "prediction error",
                f"{error:+.1%}",
                target=f"|error| <= {BOUND:.0%}",
                note=f"{'met' if check.met else 'not met'}; the true knee lies between "
                f"the step held and the next: error between {low} and {span[1]:+.1%}",
            )
        )
    return rows


def _notes(reference: Measurement, variant: Measurement) -> list[str]:
    parts = []
    for label, m in (("reference", reference), ("variant", variant)):
        others = max((c.others for c in m.step_costs.values()), default=float("nan"))
        parts.append(
            f"{label}: exit {m.exit_code}, {m.seconds:.0f} s, other work "
            f"{m.busy_before:.2f} cores before it and at most {others:.2f} during a step"
            + (f", stopped early: {m.abort_reason}" if m.abort_reason else "")
        )
    return [
        "Both runs: the platform bench's scenario (resilient profile, Toxiproxy on every "
        "link, baseline's persona mix and impatience), ramps at 10 logins a second, each "
        "step held 33 s and judged on its last 30 s with the platform bench's criterion. "
        + "; ".join(parts)
        + "."
    ]
