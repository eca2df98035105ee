"""The shape's spawn rate: jumps (the run's start, a step) at the workers' capacity, ramps
at their own slope. Locust is stood in for by what its master does with a tick: it hands
out at most ``spawn_rate`` users a second until the tick's users are reached."""

from __future__ import annotations

import math

import pytest

from spikekit.scenarios import load_scenario, shape_for
from spikekit.scenarios.shape import (
    MIN_SPAWN_RATE,
    SPAWN_RATE_PER_CORE,
    ClosedShape,
    spawn_capacity,
)
from spikekit.scenarios.stages import ClosedLoad


def closed(*stages: tuple[str, int, str], start: int = 0) -> ClosedLoad:
    return ClosedLoad.model_validate(
        {
            "model": "closed",
            "start_players": start,
            "stages": [{"duration": d, "players": p, "ramp": r} for d, p, r in stages],
        }
    )


def seconds_to_reach(shape: ClosedShape, level: int, *, start_t: int = 0) -> int:
    """Whole seconds from ``start_t`` until the players, given out at the tick's spawn
    rate once a second, reach ``level``."""
    players = 0.0 if start_t == 0 else float(shape.target_players(start_t - 1) or 0)
    for t in range(start_t, math.ceil(shape.duration_s)):
        tick = shape.tick(float(t))
        assert tick is not None
        step = math.floor(tick.spawn_rate)
        players += max(-step, min(step, tick.users - players))
        if players == level:
            return t - start_t + 1
    raise AssertionError(f"never reached {level}")


def test_capacity_is_the_measured_rate_per_worker() -> None:
    assert SPAWN_RATE_PER_CORE == 2900.0
    assert spawn_capacity(1) == 2900.0 and spawn_capacity(4) == 11_600.0
    with pytest.raises(ValueError, match="workers"):
        spawn_capacity(0)


def test_the_demo_has_its_15_starting_players_in_the_first_second() -> None:
    shape = shape_for(load_scenario("demo"), workers=2)
    assert isinstance(shape, ClosedShape)
    assert shape.target_players(0) == 15
    assert seconds_to_reach(shape, 15) == 1  # was 15 s at one player a second


@pytest.mark.parametrize(("workers", "seconds"), [(1, 3), (2, 2), (3, 1)])
def test_a_baseline_of_8000_appears_at_what_the_workers_spawn(workers: int, seconds: int) -> None:
    shape = ClosedShape(closed(("3m", 8000, "linear"), start=8000), workers=workers)
    assert shape.tick(0) == (8000, 2900.0 * workers)
    assert seconds_to_reach(shape, 8000) == seconds  # ceil(8,000 / capacity); was 8,000 s


def test_a_scaled_influencer_spike_reaches_its_baseline_promptly() -> None:
    scenario = load_scenario("influencer-spike").with_overrides(
        scale=0.01, duration_scale=None, seed=None
    )
    shape = shape_for(scenario, workers=2)
    assert isinstance(shape, ClosedShape)
    assert seconds_to_reach(shape, 80) == 1


def test_after_the_start_the_hold_is_back_to_the_minimum_rate() -> None:
    shape = ClosedShape(closed(("3m", 8000, "linear"), start=8000), workers=2)
    rates = [shape.tick(float(t)).spawn_rate for t in range(6)]  # type: ignore[union-attr]
    assert rates == [5800.0, 5800.0, 5800.0, MIN_SPAWN_RATE, MIN_SPAWN_RATE, MIN_SPAWN_RATE]


def test_a_step_is_spawned_at_capacity_up_and_down() -> None:
    shape = ClosedShape(
        closed(("60s", 100, "linear"), ("60s", 9000, "step"), ("60s", 500, "step"), start=100),
        workers=2,
    )
    assert shape.tick(30) == (100, MIN_SPAWN_RATE)
    assert shape.tick(59) == (100, 5800.0)  # the tick before: Locust ticks once a second
    assert shape.tick(60) == (9000, 5800.0)
    assert seconds_to_reach(shape, 9000, start_t=60) == 2  # 8,900 more at 5,800/s
    assert shape.tick(63) == (9000, MIN_SPAWN_RATE)  # a step is no ramp to catch up on
    assert shape.tick(120) == (500, 5800.0)
    assert seconds_to_reach(shape, 500, start_t=120) == 2


def test_ramps_keep_their_own_rate() -> None:
    shape = ClosedShape(
        closed(("100s", 1000, "linear"), ("50s", 1000, "linear"), ("60s", 2000, "step")),
        workers=2,
    )
    assert shape.tick(0) == (0, 10.0)  # no players at the start: no jump
    assert shape.tick(50) == (500, 10.0)
    assert shape.tick(120) == (1000, 10.0)  # the hold catches up at the ramp's rate
    assert shape.tick(150) == (2000, 5800.0)
    assert shape.tick(155) == (2000, 10.0)  # the step did not raise the catch-up rate


def test_an_exponential_ramp_after_a_flat_start_is_spawned_at_its_slope() -> None:
    shape = shape_for(load_scenario("influencer-spike"), workers=2)
    slope_at_end = 120_000 * (1 - 15 ** (-1 / 180))
    tick = shape.tick(359)
    assert tick is not None and tick.spawn_rate == pytest.approx(slope_at_end, rel=1e-6)
    growth = 15 ** (1 / 180)  # a second of the rise
    early = shape.tick(181)  # the second after, 8,000 · g → 8,000 · g²
    assert early is not None
    assert early.spawn_rate == pytest.approx(8000 * growth * (growth - 1), rel=1e-6)
    assert shape.tick(60) == (8000, MIN_SPAWN_RATE)  # the baseline holds at one a second
