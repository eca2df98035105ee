"""Can the workers follow the shape? The dry run's prediction — pure, no Locust.

Each run second the simulated workers move their players toward the target of that
second (the level at its end, :meth:`ShapeDriver.second_target`, the run's own target) by
at most what they may spawn in it: the shape's spawn rate at the tick that starts the
second, capped by :func:`~spikekit.scenarios.shape.spawn_capacity` (2,900 users/s per
worker). The result is the tracking error the run would measure
(:func:`~spikekit.load.recorder.tracking_error`, the same definition) and the stretches of
seconds where the players are more than ``gap`` (10 %) off the target, each with its cause
(the run's start, a step, a ramp) and the rate that cause needs.

Not modelled: Locust's own delays (a tick once a second, the master's wait for the
workers' reports), a worker slowed by its players' requests, the platform's answers.
The prediction is the best case: a shape that cannot be followed here will lag at
least this much.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikekit.load.recorder import TrackingError, tracking_error
from spikekit.load.shape_driver import ShapeDriver
from spikekit.rundir.tables import PlayersRow
from spikekit.scenarios import ClosedShape, OpenShape, Scenario
from spikekit.scenarios.durations import format_duration
from spikekit.scenarios.shape import spawn_capacity

#: Players more than this far from the target (relative) is "not following the shape".
GAP = 0.10


@dataclass(frozen=True)
class Lag:
    """Consecutive seconds where the players are more than the gap off the target."""

    cause: str  # "0 → 8,000 players at the start", "8,000 → 120,000 players over 3m"
    needs_per_s: float  # the spawn rate that cause needs
    first_t: int
    last_t: int
    worst_gap: float  # the largest |actual - target| / target of those seconds

    @property
    def seconds(self) -> int:
        return self.last_t - self.first_t + 1


@dataclass(frozen=True)
class Feasibility:
    workers: int
    capacity_per_s: float  # users/s the workers spawn together
    tracking: TrackingError  # as the run would measure it, if the workers did their best
    gap_seconds: tuple[int, ...]  # run seconds more than the gap off the target
    lags: tuple[Lag, ...]

    @property
    def followed(self) -> bool:
        return not self.gap_seconds

    def warnings(self) -> list[str]:
        """One sentence per lag, for the dry run."""
        return [
            f"{lag.cause} needs {lag.needs_per_s:,.0f} users/s, {self.workers} "
            f"worker{'' if self.workers == 1 else 's'} spawn{'s' if self.workers == 1 else ''} "
            f"{self.capacity_per_s:,.0f}/s: the players lag the target by more than "
            f"{GAP:.0%} for {lag.seconds} s (from t = {lag.first_t} s, worst "
            f"{lag.worst_gap:.0%})"
            for lag in self.lags
        ]


def predict(scenario: Scenario, workers: int, *, gap: float = GAP) -> Feasibility:
    """The players ``workers`` workers can have each second against the target."""
    driver = ShapeDriver(scenario, workers=workers)
    capacity = spawn_capacity(workers)
    seconds = range(int(-(-driver.duration_s // 1)))  # ceil
    if isinstance(driver.shape, OpenShape):
        actual = _open_players(driver, driver.shape, capacity, len(seconds))
    else:
        actual = _closed_players(driver, capacity, len(seconds))
    rows = [PlayersRow(t, driver.second_target(t), round(actual[t])) for t in seconds]
    over = tuple(r.t for r in rows if _gap(r) > gap)
    return Feasibility(
        workers,
        capacity,
        tracking_error(rows, driver.duration_s),
        over,
        tuple(_lags(driver, rows, over)),
    )


def _closed_players(driver: ShapeDriver, capacity: float, n: int) -> list[float]:
    players, out = 0.0, []
    for t in range(n):
        tick = driver.tick(float(t))
        most = capacity if tick is None else min(tick.spawn_rate, capacity)
        target = driver.second_target(t)
        players += max(-most, min(most, target - players))
        out.append(players)
    return out


def _open_players(driver: ShapeDriver, shape: OpenShape, capacity: float, n: int) -> list[float]:
    """Sessions started (capped) minus those that ended, one session length later."""
    started = [0.0]  # cumulative arrivals spawned by the end of each second
    for t in range(n):
        tick = driver.tick(float(t))
        due = shape.curve.integral(0.0, t + 1.0)
        most = capacity if tick is None else min(tick.spawn_rate, capacity)
        started.append(started[-1] + max(0.0, min(most, due - started[-1])))

    def started_by(time: float) -> float:
        if time <= 0:
            return 0.0
        whole = min(int(time), n)
        if whole >= n:
            return started[n]
        return started[whole] + (started[whole + 1] - started[whole]) * (time - whole)

    cap = shape.max_players if shape.max_players is not None else float("inf")
    length = shape.session_length_s
    return [min(cap, started[t + 1] - started_by(t + 1.0 - length)) for t in range(n)]


def _gap(row: PlayersRow) -> float:
    if row.target_players <= 0:
        return 0.0 if row.actual_players == 0 else float("inf")
    return abs(row.actual_players - row.target_players) / row.target_players


def _lags(driver: ShapeDriver, rows: list[PlayersRow], over: tuple[int, ...]) -> list[Lag]:
    stretches: list[list[int]] = []
    for t in over:
        if stretches and stretches[-1][-1] == t - 1:
            stretches[-1].append(t)
        else:
            stretches.append([t])
    by_t = {r.t: r for r in rows}
    lags = []
    for stretch in stretches:
        cause, needs = _cause(driver, stretch[0])
        worst = max(_gap(by_t[t]) for t in stretch)
        lags.append(Lag(cause, needs, stretch[0], stretch[-1], worst))
    return lags


def _cause(driver: ShapeDriver, t: int) -> tuple[str, float]:
    """What makes second ``t`` (its target is the level at ``t + 1``) hard to follow."""
    shape = driver.shape
    if isinstance(shape, ClosedShape):
        for jump in shape.jumps:
            if t <= jump.at_s <= t + 1:
                before = shape.curve.clamped(jump.at_s - 1e-9) if jump.at_s > 0 else 0.0
                when = "at the start" if jump.at_s == 0 else f"at {format_duration(jump.at_s)}"
                return f"{before:,.0f} → {before + jump.size:,.0f} players {when}", abs(jump.size)
    curve = shape.curve
    segment = next((s for s in curve.segments if s.start_s <= t + 0.5 < s.end_s), None)
    if segment is None:  # pragma: no cover - every second of the run is in a segment
        return "the shape", 0.0
    what = "players" if isinstance(shape, ClosedShape) else "arrivals/s"
    start, end = int(segment.start_s), int(-(-segment.end_s // 1))
    if isinstance(shape, ClosedShape):
        needs = max(curve.slope(float(s)) for s in range(start, end + 1))
    else:
        needs = max(curve.clamped(float(s)) for s in range(start, end + 1))
    span = format_duration(segment.end_s - segment.start_s)
    return (
        f"{segment.start_level:,.0f} → {segment.end_level:,.0f} {what} over {span} "
        f"({segment.ramp.value})",
        needs,
    )
