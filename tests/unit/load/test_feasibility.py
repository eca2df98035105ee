"""The dry run's prediction: the players the workers can have each second, the tracking
error the run would measure, and where the shape cannot be followed."""

from __future__ import annotations

import pytest

from spikekit.load.feasibility import GAP, predict
from spikekit.load.shape_driver import ShapeDriver
from spikekit.scenarios import Scenario, load_scenario
from tests.unit.load.conftest import scenario as unit_scenario


def scenario(load: dict[str, object]) -> Scenario:
    return unit_scenario(load, population={"accounts": 200_000})


def steep(players: int, seconds: int) -> dict[str, object]:
    return {
        "model": "closed",
        "stages": [
            {"duration": seconds, "players": players, "ramp": "linear"},
            {"duration": 20, "players": players},
        ],
    }


def test_a_baseline_over_the_capacity_lags_by_what_the_workers_spawn() -> None:
    flat = {"model": "closed", "start_players": 8000, "stages": [{"duration": 10, "players": 8000}]}
    prediction = predict(scenario(flat), workers=1)  # 2,900 users/s
    # players 2,900, 5,800, then 8,000 every second; the target is 8,000 throughout
    assert prediction.capacity_per_s == 2900.0
    assert prediction.tracking.relative == pytest.approx((5100 + 2200) / 80_000)
    assert prediction.tracking.max_abs == 5100
    assert prediction.gap_seconds == (0, 1)
    [lag] = prediction.lags
    assert (lag.first_t, lag.seconds, lag.needs_per_s) == (0, 2, 8000)
    assert lag.cause == "0 → 8,000 players at the start"
    assert lag.worst_gap == pytest.approx(5100 / 8000)


def test_a_feasible_shape_predicts_no_error_and_no_warning() -> None:
    prediction = predict(scenario(steep(2000, 10)), workers=1)  # 200 users/s
    assert prediction.followed
    assert prediction.tracking.relative < 0.001
    assert prediction.warnings() == []


def test_an_impossible_ramp_warns_with_its_rate_and_lag() -> None:
    prediction = predict(scenario(steep(60_000, 10)), workers=1)  # 6,000/s against 2,900/s
    assert not prediction.followed
    assert prediction.tracking.relative > 0.2
    [lag] = prediction.lags
    assert lag.first_t == 0 and lag.seconds > 10  # it runs on into the hold
    assert lag.needs_per_s == pytest.approx(6000)
    [warning] = prediction.warnings()
    assert "0 → 60,000 players over 10s (linear) needs 6,000 users/s" in warning
    assert "1 worker spawns 2,900/s" in warning
    assert f"more than {GAP:.0%} for {lag.seconds} s" in warning


def test_more_workers_follow_the_same_ramp() -> None:
    assert predict(scenario(steep(60_000, 10)), workers=3).followed  # 8,700 users/s


def test_the_target_is_the_runs_own() -> None:
    load = scenario(steep(60_000, 10))
    prediction = predict(load, workers=3)
    driver = ShapeDriver(load)
    total = sum(driver.second_target(t) for t in range(30))
    assert prediction.tracking.seconds == 30
    assert prediction.tracking.mean_abs * 30 <= total * 0.001


def test_the_demo_is_followed() -> None:
    prediction = predict(load_scenario("demo"), workers=2)
    assert prediction.followed and prediction.warnings() == []
    assert prediction.tracking.relative < 0.002


@pytest.mark.parametrize(("scale", "followed"), [(1.0, False), (0.01, True)])
def test_influencer_spike_on_two_workers(scale: float, followed: bool) -> None:
    spike = load_scenario("influencer-spike").with_overrides(
        scale=scale, duration_scale=None, seed=None
    )
    prediction = predict(spike, workers=2)
    assert prediction.followed is followed
    assert prediction.tracking.relative < 0.001  # the ramp itself (1,805/s) is followed
    if not followed:
        [lag] = prediction.lags
        assert (lag.first_t, lag.seconds) == (0, 1)  # 5,800 of the 8,000 in the first second
        assert lag.worst_gap == pytest.approx(2200 / 8000)


def test_step_surges_over_the_capacity_lag_for_seconds() -> None:
    prediction = predict(load_scenario("sports-final"), workers=2)
    causes = [lag.cause for lag in prediction.lags]
    assert "40,000 → 80,000 players at 5m" in causes
    surge = prediction.lags[causes.index("40,000 → 80,000 players at 5m")]
    assert surge.needs_per_s == 40_000
    assert surge.seconds >= 4  # 40,000 at 5,800/s: 7 s to spawn, > 10 % off for ~5 of them


OPEN = {
    "model": "open",
    "session_length": 20,
    "stages": [{"duration": 10, "arrivals_per_s": 100}, {"duration": 30, "arrivals_per_s": 100}],
}


def test_open_model_arrivals_within_capacity_are_followed() -> None:
    prediction = predict(scenario(OPEN), workers=1)
    assert prediction.followed and prediction.tracking.relative < 0.01


def test_open_model_arrivals_over_capacity_lag() -> None:
    flood = {
        **OPEN,
        "stages": [
            {"duration": 10, "arrivals_per_s": 10_000},
            {"duration": 30, "arrivals_per_s": 10_000},
        ],
    }
    prediction = predict(scenario(flood), workers=1)
    assert not prediction.followed
    assert "arrivals/s" in prediction.lags[0].cause
    assert prediction.lags[0].needs_per_s == pytest.approx(10_000)
