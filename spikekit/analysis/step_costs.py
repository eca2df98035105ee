"""A step run's knee and its costs per request, part by part. Pure on the run directory.

A *step run* holds player counts for a while each (its stages: ramp, hold, ramp, hold...).
Any platform's run can be one, the bundled platform's or a user's own, as long as its
telemetry gives each service's CPU (psutil for the bundled platform's processes; the
scrape's or PromQL's ``process_cpu_seconds_total`` for any other,
:func:`spikekit.analysis.hints.process_cpu`). ``spikekit plan --from-run`` sizes a
scenario from it (docs/sizing.md, "From a step run of your own platform").

- **Steps**: every stretch of at least :data:`MIN_STEP_S` seconds with one target player
  count, its first :data:`SETTLE_S` seconds left out (the players who just arrived).
- **Held**: the run's own SLOs (those judged each second) are met in at least
  :data:`HELD_SHARE` of the step's seconds, and at most :data:`MAX_ERRORS` of its
  requests failed: the platform bench's criterion, with the scenario's SLOs for its fixed
  ones.
- **The knee**: the step with the most players that held. Its CPU per request per
  service is the point; the spread over every held step is the interval (a low step pays
  the idle work over fewer requests: its figure is the high end).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.plan_check import cores_by_part
from spikekit.analysis.rundir import RunData
from spikekit.analysis.slo import any_breach, evaluate_slos

MIN_STEP_S = 10
SETTLE_S = 3
HELD_SHARE = 0.9
MAX_ERRORS = 0.02


@dataclass(frozen=True)
class Step:
    """One held player count, judged over ``[start_s, stop_s)``."""

    start_s: int
    stop_s: int
    target: int
    players: float  # median players in session over the window
    requests: int
    failures: int
    within_slos: float  # share of the window's seconds with every SLO met
    cores: dict[str, float] = field(default_factory=dict)  # mean cores per service

    @property
    def seconds(self) -> int:
        return self.stop_s - self.start_s

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def held(self) -> bool:
        return self.requests > 0 and self.why_not is None

    @property
    def why_not(self) -> str | None:
        """Why the step was not held, None when it was."""
        if self.requests == 0:
            return "no requests"
        reasons = []
        if self.within_slos < HELD_SHARE:
            reasons.append(f"SLOs met in only {self.within_slos:.0%} of its seconds")
        if self.error_rate > MAX_ERRORS:
            reasons.append(f"errors {self.error_rate:.1%}")
        return "; ".join(reasons) or None

    def cpu_ms(self, service: str) -> float | None:
        """CPU milliseconds per request of ``service`` over the window."""
        cores = self.cores.get(service)
        if cores is None or self.requests == 0:
            return None
        return cores * self.seconds * 1000.0 / self.requests


@dataclass(frozen=True)
class StepCosts:
    steps: tuple[Step, ...]

    @property
    def knee(self) -> Step | None:
        held = [step for step in self.steps if step.held]
        return max(held, key=lambda step: step.target) if held else None

    @property
    def censored(self) -> bool:
        """The top step held: the knee is at least there."""
        knee = self.knee
        return knee is not None and knee.target == max(step.target for step in self.steps)

    def costs(self) -> dict[str, tuple[float, float, float]]:
        """CPU ms per request per service: (the knee's, lowest, highest over held steps),
        for each service the knee's window has CPU of."""
        knee = self.knee
        if knee is None:
            return {}
        held = [step for step in self.steps if step.held]
        out = {}
        for service in sorted(knee.cores):
            point = knee.cpu_ms(service)
            if point is None:
                continue
            values = [v for v in (step.cpu_ms(service) for step in held) if v is not None]
            out[service] = (point, min(values), max(values))
        return out


def plateaus(target: s.Floats, min_s: int = MIN_STEP_S) -> list[tuple[int, int, int]]:
    """``(start, stop, players)`` of each stretch of at least ``min_s`` seconds with one
    positive target player count."""
    out = []
    start = 0
    for t in range(1, len(target) + 1):
        if t < len(target) and target[t] == target[start]:
            continue
        players = int(target[start]) if np.isfinite(target[start]) else 0
        if players > 0 and t - start >= min_s:
            out.append((start, t, players))
        start = t
    return out


def step_costs(run: RunData) -> StepCosts:
    """The run's steps, each judged and costed."""
    n = run.duration_s
    target = s.per_second(run.players, "target_players", n, fill=np.nan)
    actual = s.per_second(run.players, "actual_players", n, fill=np.nan)
    every = s.endpoint_rows(run.timeseries, "*")
    requests = s.per_second(every, "requests", n)
    failures = s.per_second(every, "failures", n)
    breached = any_breach(evaluate_slos(run), n)
    steps = []
    for start, stop, players in plateaus(target):
        lo = start + SETTLE_S
        window = actual[lo:stop]
        steps.append(
            Step(
                start_s=lo,
                stop_s=stop,
                target=players,
                players=float(np.nanmedian(window)) if np.isfinite(window).any() else 0.0,
                requests=int(requests[lo:stop].sum()),
                failures=int(failures[lo:stop].sum()),
                within_slos=float(1.0 - breached[lo:stop].mean()),
                cores=cores_by_part(run.platform_metrics, n, lo, stop),
            )
        )
    return StepCosts(tuple(steps))
