"""The spike shape as a pure function of time, built from a scenario's stages.

No Locust here: :meth:`ClosedShape.tick` has the signature of Locust's
``LoadTestShape.tick`` (``(users, spawn_rate)`` or ``None`` at the end), and a thin
adapter in :mod:`spikekit.load` calls it. ``scale`` multiplies levels and rates,
``duration_scale`` stretches time. Also: how many Locust workers a ramp needs.

The spawn rate handed to Locust (the *total* across workers: Locust's master divides it
among them, ``locust/runners.py`` ``MasterRunner.start``):

- a **jump** of the target — the run's start (from no players to the first level) or a
  ``step`` stage — is spawned at what the workers can spawn, :func:`spawn_capacity`
  (:data:`SPAWN_RATE_PER_CORE` per worker), from the second before the jump until a
  second after it should have been spawned;
- otherwise the **slope** of the curve (a ramp keeps its own rate), never below the
  steepest slope so far (players a loaded generator could not start during a ramp are
  caught up on the hold that follows) nor below :data:`MIN_SPAWN_RATE`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from spikekit.scenarios.model import Scenario
from spikekit.scenarios.stages import ClosedLoad, OpenLoad, Ramp

#: Users one Locust worker process (one core) spawns per second on this machine:
#: "Locust spawn rate achieved on one core: about 2,900 users/s" (FACTS.md, 2026-11-27).
SPAWN_RATE_PER_CORE = 2900.0
#: The slowest spawn rate handed to Locust (a rate of 0 would never reach the target).
MIN_SPAWN_RATE = 1.0


def spawn_capacity(workers: int) -> float:
    """Users per second that ``workers`` Locust worker processes can spawn together."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    return SPAWN_RATE_PER_CORE * workers


class Tick(NamedTuple):
    """What Locust's ``LoadTestShape.tick`` returns: target users and spawn rate (users/s)."""

    users: int
    spawn_rate: float


@dataclass(frozen=True)
class Segment:
    """One stage on the run's clock: from ``start_level`` at ``start_s`` to ``end_level``."""

    start_s: float
    end_s: float
    start_level: float
    end_level: float
    ramp: Ramp

    def level(self, t: float) -> float:
        u = min(max((t - self.start_s) / (self.end_s - self.start_s), 0.0), 1.0)
        a, b = self.start_level, self.end_level
        if self.ramp is Ramp.STEP or u >= 1.0:
            return b
        if self.ramp is Ramp.LINEAR:
            return a + (b - a) * u
        low, high = max(a, 1.0), max(b, 1.0)
        return float(low * (high / low) ** u)


@dataclass(frozen=True)
class Jump:
    """The level changing at once at ``at_s`` by ``size`` (signed): a step stage."""

    at_s: float
    size: float


class Curve:
    """A piecewise curve from stages; ``level(t)`` is ``None`` from the end on."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = tuple(segments)
        self.end_s = self.segments[-1].end_s if self.segments else 0.0
        self._jumps = tuple(
            Jump(s.start_s, s.end_level - s.start_level)
            for s in self.segments
            if s.ramp is Ramp.STEP and s.end_level != s.start_level
        )

    @classmethod
    def from_stages(
        cls,
        start: float,
        stages: Sequence[tuple[float, float, Ramp]],
        *,
        scale: float = 1.0,
        duration_scale: float = 1.0,
    ) -> Curve:
        """Segments from ``(duration, level at the end, ramp)`` stages."""
        segments: list[Segment] = []
        t, level = 0.0, start * scale
        for duration, value, ramp in stages:
            end = t + duration * duration_scale
            segments.append(Segment(t, end, level, value * scale, ramp))
            t, level = end, value * scale
        return cls(segments)

    def level(self, t: float) -> float | None:
        if t >= self.end_s:
            return None
        t = max(t, 0.0)
        for segment in self.segments:
            if t < segment.end_s:
                return segment.level(t)
        return None  # pragma: no cover - unreachable, t < end_s

    def clamped(self, t: float) -> float:
        """The level, at its start value before 0 and its last value past the end (rates)."""
        if not self.segments:
            return 0.0
        if t < 0:
            return self.segments[0].start_level
        level = self.level(min(t, self.end_s - 1e-9))
        return self.segments[-1].end_level if level is None else level

    def rate(self, t: float) -> float:
        """The fastest change over the second before or after ``t`` (levels per second)."""
        now = self.clamped(t)
        return max(abs(now - self.clamped(t - 1.0)), abs(self.clamped(t + 1.0) - now))

    def jumps(self) -> tuple[Jump, ...]:
        """The step stages that change the level, where they jump."""
        return self._jumps

    def smooth(self, t: float) -> float:
        """:meth:`clamped` without its jumps: what the ramps alone added."""
        jumped = sum(j.size for j in self._jumps if j.at_s <= t)
        return self.clamped(t) - jumped

    def slope(self, t: float) -> float:
        """Like :meth:`rate`, for the ramps only (steps count as holds)."""
        now = self.smooth(t)
        return max(abs(now - self.smooth(t - 1.0)), abs(self.smooth(t + 1.0) - now))

    def peak(self) -> float:
        return max((max(s.start_level, s.end_level) for s in self.segments), default=0.0)

    def max_rate(self) -> float:
        """The largest :meth:`rate` at any whole second of the curve."""
        return max((self.rate(float(t)) for t in range(math.ceil(self.end_s) + 1)), default=0.0)

    def integral(self, start: float, end: float) -> float:
        """Area under the curve between two times (trapezoids of at most one second)."""
        start, end = max(start, 0.0), min(end, self.end_s)
        if end <= start:
            return 0.0
        steps = max(1, math.ceil(end - start))
        width = (end - start) / steps
        points = [self.clamped(start + i * width) for i in range(steps + 1)]
        return width * (sum(points) - (points[0] + points[-1]) / 2)


class ClosedShape:
    """Concurrent players over time (the closed model), spawned by ``workers`` workers."""

    def __init__(
        self,
        load: ClosedLoad,
        *,
        scale: float = 1.0,
        duration_scale: float = 1.0,
        workers: int = 1,
    ):
        stages = [(s.duration, float(s.players), s.ramp) for s in load.stages]
        self.curve = Curve.from_stages(
            load.start_players, stages, scale=scale, duration_scale=duration_scale
        )
        self.spawn_capacity = spawn_capacity(workers)
        start = Jump(0.0, self.curve.clamped(-1.0))  # from no players to the first level
        self.jumps = tuple(j for j in (start, *self.curve.jumps()) if j.size != 0)
        self._windows = [self._window(j) for j in self.jumps]
        seconds = (self.curve.slope(float(s)) for s in range(math.ceil(self.curve.end_s) + 1))
        self._steepest_so_far = list(itertools.accumulate(seconds, max))

    def _window(self, jump: Jump) -> tuple[float, float]:
        """When a jump is spawned at capacity: from the second before it (Locust ticks
        once a second) until a second after the workers should have spawned it."""
        seconds = math.ceil(abs(jump.size) / self.spawn_capacity)
        return jump.at_s - 1.0, jump.at_s + seconds + 1.0

    @property
    def duration_s(self) -> float:
        return self.curve.end_s

    def target_players(self, t: float) -> int | None:
        level = self.curve.level(t)
        return None if level is None else round(level)

    def tick(self, t: float) -> Tick | None:
        """Target users and spawn rate at run time ``t`` s; ``None`` once the shape has ended.

        Around a jump (the run's start, a step) the rate is the workers' capacity. Else
        it is the ramp's slope, never below the steepest ramp so far: players a loaded
        generator could not start in time during the ramp are caught up at that rate on
        the hold that follows, not at one per second.
        """
        users = self.target_players(t)
        if users is None:
            return None
        if any(start <= t < end for start, end in self._windows):
            return Tick(users, max(self.spawn_capacity, self.curve.slope(t)))
        second = min(max(int(t), 0), len(self._steepest_so_far) - 1)
        catch_up = self._steepest_so_far[second] if self._steepest_so_far else 0.0
        return Tick(users, max(MIN_SPAWN_RATE, self.curve.slope(t), catch_up))

    def peak_players(self) -> int:
        return round(self.curve.peak())

    def max_spawn_rate(self) -> float:
        return max(MIN_SPAWN_RATE, self.curve.max_rate())


class OpenShape:
    """New player sessions per second over time (the open model)."""

    def __init__(self, load: OpenLoad, *, scale: float = 1.0, duration_scale: float = 1.0):
        stages = [(s.duration, s.arrivals_per_s, s.ramp) for s in load.stages]
        self.curve = Curve.from_stages(
            load.start_arrivals_per_s, stages, scale=scale, duration_scale=duration_scale
        )
        self.session_length_s = load.session_length
        self.max_players = None if load.max_players is None else load.max_players * scale

    @property
    def duration_s(self) -> float:
        return self.curve.end_s

    def arrival_rate(self, t: float) -> float | None:
        """New sessions per second at run time ``t``; ``None`` once the shape has ended."""
        return self.curve.level(t)

    def target_players(self, t: float) -> int | None:
        """Sessions started within one session length before ``t`` (all still playing)."""
        if self.curve.level(t) is None:
            return None
        players = self.curve.integral(t - self.session_length_s, t)
        if self.max_players is not None:
            players = min(players, self.max_players)
        return round(players)

    def peak_players(self) -> int:
        peak = self.curve.peak() * self.session_length_s
        return round(peak if self.max_players is None else min(peak, self.max_players))

    def max_spawn_rate(self) -> float:
        """Every arrival is a user to spawn: the peak arrival rate."""
        return max(MIN_SPAWN_RATE, self.curve.peak())


def shape_for(scenario: Scenario, *, workers: int = 1) -> ClosedShape | OpenShape:
    """The scenario's shape with its ``scale`` and ``duration_scale`` applied, its jumps
    spawned at what ``workers`` Locust workers can spawn."""
    scale, duration_scale = scenario.scale, scenario.duration_scale
    if isinstance(scenario.load, OpenLoad):
        return OpenShape(scenario.load, scale=scale, duration_scale=duration_scale)
    return ClosedShape(scenario.load, scale=scale, duration_scale=duration_scale, workers=workers)


def workers_needed(
    spawn_rate: float,
    *,
    per_worker: float = SPAWN_RATE_PER_CORE,
    max_workers: int | None = None,
) -> int:
    """Locust worker processes (one per core) needed to spawn ``spawn_rate`` users/s."""
    if per_worker <= 0:
        raise ValueError("per_worker must be above 0")
    needed = max(1, math.ceil(spawn_rate / per_worker))
    return needed if max_workers is None else max(1, min(needed, max_workers))


def workers_for(scenario: Scenario, *, max_workers: int | None = None) -> int:
    """Workers the scenario's steepest ramp needs, at most ``max_workers``."""
    return workers_needed(shape_for(scenario).max_spawn_rate(), max_workers=max_workers)
