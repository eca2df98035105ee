"""The scenario's shape as Locust ticks, closed or open model — pure, no Locust.

Locust's ``LoadTestShape.tick()`` returns ``(users, spawn_rate)``; the adapter in
:mod:`spikekit.load.locust_shape` calls :meth:`ShapeDriver.tick` with its run time.

- **Closed model**: the scenario's :class:`~spikekit.scenarios.ClosedShape` as it is —
  concurrent players, each playing until Locust stops it.
- **Open model**: every arrival is a new Locust user that plays *one* session of
  ``session_length`` and then goes idle (it never stops, so Locust's worker does not
  replace it). Users are therefore the *cumulative* arrivals, spawned at the arrival rate:
  ``tick(t) = (arrivals in [0, t + 1), max(rate(t), arrivals in [t, t + 1)))``. Players
  in a session follow Little's law; that is the target compared with the players
  actually in a session.

The closed shape spawns its jumps (the run's start, a step) at what the workers can
spawn: the adapter tells the driver how many workers the master has (:meth:`use_workers`).
"""

from __future__ import annotations

from spikekit.scenarios import ClosedShape, OpenShape, Scenario, Tick, shape_for
from spikekit.scenarios.shape import MIN_SPAWN_RATE


class ShapeDriver:
    def __init__(self, scenario: Scenario, *, workers: int = 1) -> None:
        self.scenario = scenario
        self.workers = workers
        self.shape: ClosedShape | OpenShape = shape_for(scenario, workers=workers)

    def use_workers(self, workers: int) -> None:
        """Spawn the shape's jumps at what ``workers`` workers can spawn (from now on)."""
        if workers >= 1 and workers != self.workers:
            self.workers = workers
            self.shape = shape_for(self.scenario, workers=workers)

    @property
    def is_open(self) -> bool:
        return isinstance(self.shape, OpenShape)

    @property
    def duration_s(self) -> float:
        return self.shape.duration_s

    @property
    def session_length_s(self) -> float | None:
        return self.shape.session_length_s if isinstance(self.shape, OpenShape) else None

    def tick(self, t: float) -> Tick | None:
        """Locust's tick at run time ``t`` seconds; ``None`` once the shape has ended.

        (The Locust adapter turns ``None`` into "no users" and lets the master stop the
        run: Locust's own stop would block its workers' message loops for ``stop_timeout``.)
        """
        if isinstance(self.shape, ClosedShape):
            return self.shape.tick(t)
        rate = self.shape.arrival_rate(t)
        if rate is None:
            return None
        arrivals = self.shape.curve.integral(0.0, t + 1.0)
        coming = self.shape.curve.integral(t, t + 1.0)  # a rising ramp: above rate(t)
        return Tick(round(arrivals), max(MIN_SPAWN_RATE, rate, coming))

    def target_players(self, t: float) -> int:
        """Players that should be playing at ``t`` (0 past the end)."""
        target = self.shape.target_players(t)
        return 0 if target is None else target

    def second_target(self, t: int) -> int:
        """The target of run second ``t``: at its end, when the workers count their players
        (the last second of the shape keeps its level; after the shape, 0)."""
        if t >= self.duration_s:
            return 0
        return self.target_players(min(t + 1.0, self.duration_s - 1e-6))

    def ended(self, t: float) -> bool:
        return t >= self.duration_s
