"""The platform bench's step load and its knee, as pure functions of per-second figures.

A :class:`Schedule` is a list of steps: each step ramps the players linearly from the
previous step's count at a bounded arrival rate (every arriving player logs in: the rate is
kept well under what argon2id lets two cores verify), then holds them. The first
``settle_s`` seconds of a hold are not judged (logins still queued by the ramp finish
there); the rest is the step's *window*.

:func:`step_figures` turns the load recorder's per-second rows (``timeseries.parquet``,
``players.parquet``) into one :class:`StepFigures` per step, judged by a
:class:`Criterion`; :func:`knee` picks the highest step held. No I/O here: unit-tested in
``tests/unit/test_bench_platform.py``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

ALL = "*"
ROUNDS = "POST /api/games/{game}/rounds"


@dataclass(frozen=True)
class Step:
    """One step: its ramp runs from ``ramp_t`` to ``hold_t``, its hold to ``end_t``."""

    index: int
    players: int
    ramp_t: float
    hold_t: float
    end_t: float
    settle_s: float

    @property
    def window(self) -> tuple[int, int]:
        """The judged seconds ``[start, end)`` of the run's clock (whole seconds)."""
        return math.ceil(self.hold_t + self.settle_s), math.floor(self.end_t)

    @property
    def window_s(self) -> int:
        start, end = self.window
        return max(end - start, 0)


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]
    arrivals_per_s: float
    hold_s: float
    settle_s: float
    idle_s: float = 0.0  # a first stage without players: what the platform costs idle

    @property
    def idle_window(self) -> tuple[int, int] | None:
        """The idle seconds judged ``[start, end)``: the first two are left out."""
        return (2, math.floor(self.idle_s)) if self.idle_s >= 5 else None

    @property
    def duration_s(self) -> float:
        return self.steps[-1].end_t if self.steps else 0.0

    @property
    def peak(self) -> int:
        return max((s.players for s in self.steps), default=0)

    def stages(self) -> list[dict[str, object]]:
        """The scenario's ``load.stages``: a linear ramp and a hold per step."""
        stages: list[dict[str, object]] = []
        if self.idle_s:
            stages.append({"duration": self.idle_s, "players": 0})
        for step in self.steps:
            stages.append(
                {"duration": step.hold_t - step.ramp_t, "players": step.players, "ramp": "linear"}
            )
            stages.append({"duration": step.end_t - step.hold_t, "players": step.players})
        return stages


def schedule(
    players: Sequence[int],
    arrivals_per_s: float,
    hold_s: float,
    settle_s: float,
    idle_s: float = 0.0,
) -> Schedule:
    """Steps to ``players`` (increasing), each ramp at ``arrivals_per_s`` (whole seconds),
    after ``idle_s`` without players."""
    if not players or any(b <= a for a, b in itertools.pairwise(players)):
        raise ValueError(f"expected increasing player counts, got {list(players)}")
    if settle_s >= hold_s:
        raise ValueError(f"the settle time ({settle_s:g} s) must be shorter than the hold")
    steps: list[Step] = []
    t, previous = float(idle_s), 0
    for index, count in enumerate(players):
        ramp_s = float(max(1, math.ceil((count - previous) / arrivals_per_s)))
        steps.append(Step(index, count, t, t + ramp_s, t + ramp_s + hold_s, settle_s))
        t, previous = t + ramp_s + hold_s, count
    return Schedule(tuple(steps), arrivals_per_s, hold_s, settle_s, float(idle_s))


# --- per-second figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class Second:
    """One row of ``timeseries.parquet``: an endpoint (or ``*``) in one second."""

    t: int
    endpoint: str
    requests: int
    failures: int
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Criterion:
    """A step is held when, over its window, ``endpoint``'s p95 is under ``p95_ms`` in at
    least ``share`` of the seconds, and failures / requests stay under ``error_rate``."""

    endpoint: str = ROUNDS
    p95_ms: float = 1000.0
    share: float = 0.9
    error_rate: float = 0.02

    def describe(self) -> str:
        return (
            f"rounds p95 < {self.p95_ms / 1000:g} s in at least {self.share:.0%} of the "
            f"window's seconds, and errors < {self.error_rate:.0%} of its requests"
        )


@dataclass(frozen=True)
class StepFigures:
    step: Step
    seconds: int  # seconds of the window with data
    requests: int
    failures: int
    endpoints: dict[str, int]  # requests per endpoint in the window
    p95_ms: float  # all requests: median over the window's seconds of each second's p95
    p99_ms: float
    judged_p95_ms: float  # the criterion's endpoint, same
    judged_p99_ms: float
    judged_within: float  # share of the seconds with the endpoint's p95 under the bound
    actual_players: float  # median of the players in session over the window
    held: bool
    why: str = ""  # why the step was not held

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else math.nan

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def mix(self) -> dict[str, float]:
        """Each endpoint's share of the window's requests, largest first."""
        total = sum(self.endpoints.values())
        if not total:
            return {}
        ordered = sorted(self.endpoints.items(), key=lambda item: -item[1])
        return {name: count / total for name, count in ordered}


def _median(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(statistics.median(finite)) if finite else math.nan


def step_figures(
    step: Step,
    seconds: Sequence[Second],
    players: dict[int, int],
    criterion: Criterion,
) -> StepFigures:
    """Judge ``step`` on the rows of its window (``players``: t → players in session)."""
    start, end = step.window
    rows = [s for s in seconds if start <= s.t < end]
    totals = [s for s in rows if s.endpoint == ALL]
    judged = [s for s in rows if s.endpoint == criterion.endpoint]
    endpoints: dict[str, int] = {}
    for row in rows:
        if row.endpoint != ALL:
            endpoints[row.endpoint] = endpoints.get(row.endpoint, 0) + row.requests
    requests = sum(s.requests for s in totals)
    failures = sum(s.failures for s in totals)
    within = [s for s in judged if s.requests and s.p95_ms < criterion.p95_ms]
    judged_seconds = max(len(totals), 1)
    share = len(within) / judged_seconds if totals else 0.0
    figures = StepFigures(
        step=step,
        seconds=len(totals),
        requests=requests,
        failures=failures,
        endpoints=endpoints,
        p95_ms=_median([s.p95_ms for s in totals if s.requests]),
        p99_ms=_median([s.p99_ms for s in totals if s.requests]),
        judged_p95_ms=_median([s.p95_ms for s in judged if s.requests]),
        judged_p99_ms=_median([s.p99_ms for s in judged if s.requests]),
        judged_within=share,
        actual_players=_median([float(players[t]) for t in range(start, end) if t in players]),
        held=False,
    )
    why = _why_not_held(figures, criterion, end - start)
    return replace(figures, held=not why, why=why)


def _why_not_held(figures: StepFigures, criterion: Criterion, expected_s: int) -> str:
    if figures.seconds == 0:
        return "not reached (the run had ended)"
    if figures.seconds < expected_s:
        return f"cut short: {figures.seconds} of {expected_s} s (the run stopped)"
    reasons = []
    if figures.judged_within < criterion.share:
        reasons.append(
            f"rounds p95 < {criterion.p95_ms:g} ms in only {figures.judged_within:.0%} of seconds"
        )
    if not figures.error_rate < criterion.error_rate:
        reasons.append(f"errors {figures.error_rate:.1%}")
    return "; ".join(reasons)


def judge(
    schedule: Schedule,
    seconds: Sequence[Second],
    players: dict[int, int],
    criterion: Criterion,
) -> list[StepFigures]:
    return [step_figures(step, seconds, players, criterion) for step in schedule.steps]


@dataclass(frozen=True)
class Knee:
    """The highest step held, the first step above it that was not, and any step below it
    that was not held (noise: a busy second of the machine, not the platform's limit)."""

    held: StepFigures | None
    above: StepFigures | None
    failed_below: tuple[StepFigures, ...]

    @property
    def censored(self) -> bool:
        """The top step was held: the knee is at least there, maybe higher."""
        return self.held is not None and self.above is None


def knee(figures: Sequence[StepFigures]) -> Knee:
    held = [f for f in figures if f.held]
    if not held:
        first = figures[0] if figures else None
        return Knee(None, first, ())
    top = max(held, key=lambda f: f.step.players)
    above = next((f for f in figures if f.step.players > top.step.players), None)
    below = tuple(f for f in figures if f.step.players < top.step.players and not f.held)
    return Knee(top, above, below)


@dataclass(frozen=True)
class BreakPoint:
    """The first second at which the trailing seconds no longer met the criterion."""

    t: int
    players: int


def break_point(
    seconds: Sequence[Second],
    players: dict[int, int],
    criterion: Criterion,
    start_t: float,
    span_s: int = 10,
) -> BreakPoint | None:
    """From ``start_t`` on (the ramp above the knee), the first second whose trailing
    ``span_s`` seconds fail ``criterion``: it says where, between two steps, the platform
    gave way (a ramp, not a hold: a finer but less settled figure than the knee)."""
    totals = {s.t: s for s in seconds if s.endpoint == ALL}
    judged = {s.t: s for s in seconds if s.endpoint == criterion.endpoint}
    first = math.ceil(start_t)
    allowed_slow = math.floor(span_s * (1 - criterion.share) + 1e-9)
    for t in sorted(t for t in totals if t >= first + span_s - 1):
        window = [totals[u] for u in range(t - span_s + 1, t + 1) if u in totals]
        requests = sum(s.requests for s in window)
        failures = sum(s.failures for s in window)
        slow = [
            u
            for u in range(t - span_s + 1, t + 1)
            if u in judged and judged[u].requests and judged[u].p95_ms >= criterion.p95_ms
        ]
        errors = failures / requests if requests else 0.0
        if errors >= criterion.error_rate or len(slow) > allowed_slow:
            return BreakPoint(t, players.get(t, 0))
    return None
