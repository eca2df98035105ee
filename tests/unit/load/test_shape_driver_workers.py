"""The driver spawns the shape's jumps at the capacity of the workers it is told of."""

from __future__ import annotations

from spikekit.load.shape_driver import ShapeDriver
from tests.unit.load.conftest import OPEN, scenario

BASELINE = {"model": "closed", "start_players": 500, "stages": [{"duration": 30, "players": 500}]}


def test_the_start_is_spawned_at_the_workers_capacity() -> None:
    driver = ShapeDriver(scenario(BASELINE))
    assert driver.tick(0.0) == (500, 2900.0)
    driver.use_workers(3)
    assert driver.workers == 3 and driver.tick(0.0) == (500, 8700.0)
    assert driver.tick(10.0) == (500, 1.0)


def test_no_workers_keeps_the_last_known_count() -> None:
    driver = ShapeDriver(scenario(BASELINE), workers=2)
    driver.use_workers(0)  # a master between workers: keep what was known
    assert driver.workers == 2 and driver.tick(0.0) == (500, 5800.0)


def test_the_open_model_is_unchanged_by_workers() -> None:
    one, four = ShapeDriver(scenario(OPEN)), ShapeDriver(scenario(OPEN), workers=4)
    assert [one.tick(float(t)) for t in range(20)] == [four.tick(float(t)) for t in range(20)]
