"""Locust's ``LoadTestShape`` over the scenario's pure shape (Locust processes only)."""

from __future__ import annotations

from locust import LoadTestShape
from locust.runners import MasterRunner

from spikekit.load.shape_driver import ShapeDriver

#: Users stopped per second when the run ends (Locust stops them all at once).
STOP_RATE = 1_000_000.0


class ScenarioShape(LoadTestShape):
    """Asks :class:`ShapeDriver` for ``(users, spawn_rate)`` at Locust's run time."""

    def __init__(self, driver: ShapeDriver) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.driver = driver
        self.last: tuple[int, float] = (0, STOP_RATE)

    def tick(self) -> tuple[int, float] | None:
        """Never ``None``: past the end the last level holds until the master ends the run
        (it stops the players itself, just after the workers counted the last second).

        Locust's master divides the spawn rate among its workers: the shape's jumps are
        spawned at the capacity of the workers connected now."""
        if isinstance(self.runner, MasterRunner):
            self.driver.use_workers(self.runner.worker_count)
        tick = self.driver.tick(self.get_run_time())  # type: ignore[no-untyped-call]
        if tick is not None:
            self.last = (tick.users, tick.spawn_rate)
        return self.last
