"""The spike shape is a pure function of time: known values at known times."""

from __future__ import annotations

import math

import pytest

from spikekit.scenarios.shape import (
    MIN_SPAWN_RATE,
    SPAWN_RATE_PER_CORE,
    ClosedShape,
    OpenShape,
    Tick,
    workers_for,
    workers_needed,
)
from spikekit.scenarios.stages import ClosedLoad, OpenLoad


def closed(*stages: tuple[str, int, str], start: int = 0) -> ClosedLoad:
    return ClosedLoad.model_validate(
        {
            "model": "closed",
            "start_players": start,
            "stages": [{"duration": d, "players": p, "ramp": r} for d, p, r in stages],
        }
    )


def test_linear_ramp_values_and_rate() -> None:
    shape = ClosedShape(closed(("100s", 1000, "linear"), ("50s", 1000, "linear")))
    assert shape.tick(0) == Tick(0, 10.0)
    assert shape.tick(50) == Tick(500, 10.0)
    assert shape.tick(99.5) == Tick(995, 10.0)
    assert shape.tick(100) == Tick(1000, 10.0)  # the second before still ramped
    assert shape.tick(120) == Tick(1000, 10.0)  # the hold catches up at the ramp's rate
    assert shape.duration_s == 150


def test_exponential_ramp_is_geometric() -> None:
    shape = ClosedShape(closed(("180s", 120_000, "exponential"), start=8000))
    assert shape.target_players(0) == 8000
    assert shape.target_players(90) == round(8000 * math.sqrt(15))  # halfway: geometric mean
    assert shape.target_players(179.999) == pytest.approx(120_000, rel=1e-3)
    tick = shape.tick(179)
    assert tick is not None
    assert tick.spawn_rate == pytest.approx(120_000 * (1 - 15 ** (-1 / 180)), rel=1e-6)


def test_exponential_from_zero_and_down_to_zero() -> None:
    shape = ClosedShape(closed(("10s", 1024, "exponential"), ("10s", 0, "exponential")))
    assert shape.target_players(0) == 1
    assert shape.target_players(5) == 32
    assert shape.target_players(15) == 32
    assert shape.target_players(19.999) in {0, 1}


def test_step_jumps_at_the_start_of_its_stage() -> None:
    shape = ClosedShape(closed(("60s", 100, "step"), ("30s", 500, "step")))
    capacity = SPAWN_RATE_PER_CORE  # one worker
    assert shape.tick(0) == Tick(100, capacity)  # the run's start: at what a worker spawns
    assert shape.tick(30) == Tick(100, MIN_SPAWN_RATE)  # a step is no ramp to catch up on
    assert shape.tick(59) == Tick(100, capacity)  # looks one second ahead
    assert shape.tick(60) == Tick(500, capacity)
    assert shape.tick(61) == Tick(500, capacity)
    assert shape.tick(62) == Tick(500, MIN_SPAWN_RATE)


def test_an_empty_start_spawns_at_the_minimum_rate() -> None:
    shape = ClosedShape(closed(("60s", 0, "linear"), ("60s", 0, "linear")))
    assert shape.jumps == ()
    assert shape.tick(0) == Tick(0, MIN_SPAWN_RATE)
    assert shape.tick(30) == Tick(0, MIN_SPAWN_RATE)


def test_none_at_and_after_the_end() -> None:
    shape = ClosedShape(closed(("10s", 10, "linear")))
    assert shape.tick(9.9) is not None
    assert shape.tick(10) is None
    assert shape.tick(1e6) is None


def test_scale_and_duration_scale() -> None:
    shape = ClosedShape(closed(("100s", 1000, "linear")), scale=0.5, duration_scale=2)
    assert shape.duration_s == 200
    assert shape.tick(100) == Tick(250, 2.5)
    assert shape.peak_players() == 500


def test_negative_time_is_the_start() -> None:
    shape = ClosedShape(closed(("10s", 10, "linear"), start=4))
    assert shape.target_players(-5) == 4


def open_load(**extra: object) -> OpenLoad:
    return OpenLoad.model_validate(
        {
            "model": "open",
            "session_length": "100s",
            "stages": [
                {"duration": "100s", "arrivals_per_s": 10, "ramp": "linear"},
                {"duration": "300s", "arrivals_per_s": 10},
            ],
            **extra,
        }
    )


def test_open_model_arrival_rate_and_players() -> None:
    shape = OpenShape(open_load(), scale=2)
    assert shape.arrival_rate(0) == 0
    assert shape.arrival_rate(50) == 10  # 5/s, scaled x2
    assert shape.arrival_rate(200) == 20
    assert shape.arrival_rate(400) is None
    # Sessions last 100 s: at t=300 everyone who arrived in the last 100 s is playing.
    assert shape.target_players(300) == 2000
    assert shape.target_players(100) == 1000  # area of the ramp: 100 s x 20/s / 2
    assert shape.peak_players() == 2000
    assert shape.max_spawn_rate() == 20


def test_open_model_player_cap() -> None:
    shape = OpenShape(open_load(max_players=300))
    assert shape.target_players(300) == 300
    assert shape.peak_players() == 300


@pytest.mark.parametrize(
    ("rate", "workers"), [(0, 1), (1, 1), (2900, 1), (2901, 2), (10_000, 4), (45_000, 16)]
)
def test_workers_needed(rate: float, workers: int) -> None:
    assert workers_needed(rate) == workers


def test_workers_needed_is_capped() -> None:
    assert workers_needed(45_000, max_workers=2) == 2
    with pytest.raises(ValueError, match="per_worker"):
        workers_needed(1, per_worker=0)


def test_workers_for_a_scenario() -> None:
    from spikekit.scenarios import load_scenario

    assert workers_for(load_scenario("influencer-spike")) == 1  # ~1,800 users/s at the end
    assert workers_for(load_scenario("sports-final")) > 2  # step surges of 40,000 players
    assert workers_for(load_scenario("sports-final"), max_workers=2) == 2
