"""The spike shape as a pure function of time, built from a scenario's stages.

No Locust here: :meth:`ClosedShape.tick` has the signature of Locust's
``LoadTestShape.tick`` (``(users, spawn_rate)`` or ``None`` at the end), and a thin
adapter in :mod:`spikekit.load` calls it. ``scale`` multiplies levels and rates,
``duration_scale`` stretches time. Also: how many Locust workers a ramp needs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from spikekit.scenarios.model import Scenario
from spikekit.scenarios.stages import ClosedLoad, OpenLoad, Ramp

#: Users Locust's spawner started per second on one core of this machine (FACTS.md).
SPAWN_RATE_PER_CORE = 2900.0
#: The slowest spawn rate handed to Locust (a rate of 0 would never reach the target).
MIN_SPAWN_RATE = 1.0


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


class Curve:
    """A piecewise curve from stages; ``level(t)`` is ``None`` from the end on."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = tuple(segments)
        self.end_s = self.segments[-1].end_s if self.segments else 0.0

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
    """Concurrent players over time (the closed model)."""

    def __init__(self, load: ClosedLoad, *, scale: float = 1.0, duration_scale: float = 1.0):
        stages = [(s.duration, float(s.players), s.ramp) for s in load.stages]
        self.curve = Curve.from_stages(
            load.start_players, stages, scale=scale, duration_scale=duration_scale
        )
        seconds = (self.curve.rate(float(s)) for s in range(math.ceil(self.curve.end_s) + 1))
        self._steepest_so_far = list(itertools.accumulate(seconds, max))

    @property
    def duration_s(self) -> float:
        return self.curve.end_s

    def target_players(self, t: float) -> int | None:
        level = self.curve.level(t)
        return None if level is None else round(level)

    def tick(self, t: float) -> Tick | None:
        """Target users and spawn rate at run time ``t`` s; ``None`` once the shape has ended.

        The spawn rate never drops below the steepest ramp so far: players a loaded
        generator could not start in time during the ramp are caught up at that rate on
        the hold that follows, not at one per second.
        """
        users = self.target_players(t)
        if users is None:
            return None
        second = min(max(int(t), 0), len(self._steepest_so_far) - 1)
        catch_up = self._steepest_so_far[second] if self._steepest_so_far else 0.0
        return Tick(users, max(MIN_SPAWN_RATE, self.curve.rate(t), catch_up))

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


def shape_for(scenario: Scenario) -> ClosedShape | OpenShape:
    """The scenario's shape with its ``scale`` and ``duration_scale`` applied."""
    scales = {"scale": scenario.scale, "duration_scale": scenario.duration_scale}
    if isinstance(scenario.load, OpenLoad):
        return OpenShape(scenario.load, **scales)
    return ClosedShape(scenario.load, **scales)


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
