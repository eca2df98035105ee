from __future__ import annotations

import pytest

from spikekit.load.options import plan_workers
from spikekit.load.shape_driver import ShapeDriver
from spikekit.scenarios import ClosedShape
from tests.unit.load.conftest import CLOSED, OPEN, scenario


def test_closed_ticks_are_the_scenario_shape() -> None:
    driver = ShapeDriver(scenario(CLOSED))
    shape = ClosedShape(scenario(CLOSED).load)  # type: ignore[arg-type]
    for t in (0.0, 2.5, 9.9, 10.0, 15.0, 22.0, 24.9):
        assert driver.tick(t) == shape.tick(t)
    assert driver.tick(5.0) == (50, 10.0)
    assert driver.tick(25.0) is None


def test_closed_scale_and_duration_scale_apply() -> None:
    driver = ShapeDriver(scenario(CLOSED, scale=2.0, duration_scale=0.5))
    assert driver.duration_s == 12.5
    assert driver.tick(2.5) == (100, 40.0)


def test_second_target_is_the_level_at_the_end_of_the_second() -> None:
    driver = ShapeDriver(scenario(CLOSED))
    assert [driver.second_target(t) for t in (0, 4, 9, 15)] == [10, 50, 100, 100]
    assert driver.second_target(24) == 0 or driver.second_target(24) <= 20
    assert driver.second_target(25) == 0
    assert driver.ended(25.0) and not driver.ended(24.9)


def test_open_model_spawns_cumulative_arrivals_at_the_arrival_rate() -> None:
    driver = ShapeDriver(scenario(OPEN))
    assert driver.is_open and driver.session_length_s == 20
    first, later = driver.tick(0.0), driver.tick(14.0)
    assert first is not None and later is not None
    # linear ramp 0 → 10/s over 10 s: 0.5 arrivals in the first second
    assert first.users in (0, 1)
    # 50 arrivals in the ramp, then 10/s: 50 + 10 * 5 by t = 15
    assert later.users == pytest.approx(100, abs=1)
    assert later.spawn_rate == 10.0
    users = [driver.tick(float(t)).users for t in range(20)]  # type: ignore[union-attr]
    assert users == sorted(users)  # never decreases: finished sessions idle, never stop
    assert driver.tick(20.0) is None


def test_open_model_target_is_littles_law() -> None:
    driver = ShapeDriver(scenario(OPEN))
    # at t = 20: sessions that started in the last 20 s, all of them: 50 + 100
    assert driver.target_players(19.999) == pytest.approx(150, abs=1)


def test_auto_workers_is_the_core_count() -> None:
    plan = plan_workers("auto", scenario(CLOSED), cores=4)
    assert (plan.workers, plan.ramp_needs, plan.warning) == (4, 1, None)


def test_worker_count_from_the_ramp_warns_when_short() -> None:
    steep = {"model": "closed", "stages": [{"duration": 1, "players": 9000}]}
    plan = plan_workers("auto", scenario(steep), cores=2)
    assert plan.ramp_needs == 4  # 9,000 users/s at 2,900 users/s per worker
    assert plan.workers == 2
    assert plan.warning is not None and "needs 4 workers" in plan.warning
    assert plan_workers(4, scenario(steep), cores=2).warning is not None  # 4 on 2 cores
    assert plan_workers(1, scenario(CLOSED), cores=2).workers == 1


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers"):
        plan_workers(0, scenario(CLOSED), cores=2)
