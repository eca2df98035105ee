"""The scenario's peak against what this machine's bundled platform holds (pure)."""

from __future__ import annotations

import pytest

from spikekit.reference_platform.capacity import PlatformCapacity
from spikekit.run.capacity_check import (
    ESTIMATE_CPU_MS,
    KNEE_BUSY,
    Fit,
    MachineFit,
    check_fit,
    floor_significant,
)
from spikekit.scenarios import Scenario, load_scenario
from spikekit.scenarios.personas import ThinkTime
from spikekit.scenarios.target import UrlTarget

#: The bench's figure of 2026-12-01: 350 players at 112 req/s, baseline's think time 1-5 s.
BENCH = PlatformCapacity(
    knee_players=350,
    knee_rps=112.0,
    rps_per_player=0.32,
    think_min_s=1.0,
    think_max_s=5.0,
    cpu_ms_per_request=10.88,
    cores=2,
    date="2026-12-01",
)


def baseline(scale: float | None = None, **update: object) -> Scenario:
    """``baseline`` (8,000 players, think 1-5 s, as the bench's), scaled and updated."""
    scenario = load_scenario("baseline").with_overrides(scale=scale)
    return scenario.model_copy(update=update) if update else scenario


def fit_of(
    scenario: Scenario, cores: int = 2, capacity: PlatformCapacity | None = BENCH
) -> MachineFit:
    fit = check_fit(scenario, cores, capacity)
    assert fit is not None
    return fit


def test_a_peak_at_the_bench_pace_is_held_as_the_bench_held_it() -> None:
    fit = fit_of(baseline(0.04))  # 320 players
    assert fit.peak_players == 320
    assert fit.rps_per_player == pytest.approx(0.32)  # the bench's think time, its answers
    assert fit.holds_players == 350
    assert fit.ratio == pytest.approx(320 / 350)
    assert fit.fit is Fit.FITS
    assert fit.fitting_scale is None
    assert not fit.holding.estimate
    assert fit.message().endswith("0.91x, it fits.")


def test_around_the_knee_is_tight_and_names_the_scale_that_fits() -> None:
    fit = fit_of(baseline(0.06))  # 480 players: 1.37x
    assert fit.fit is Fit.TIGHT
    assert fit.fitting_scale == 0.043  # 0.06 / 1.37 = 0.0437, rounded down
    message = fit.message()
    assert "1.37x, tight" in message
    assert "--scale 0.043 fits" in message


def test_the_full_spike_is_far_beyond_and_the_message_says_what_to_do() -> None:
    fit = fit_of(load_scenario("influencer-spike"))
    assert fit.peak_players == 120_000
    assert fit.ratio == pytest.approx(120_000 / 350)
    assert fit.fit is Fit.FAR_BEYOND
    assert fit.fitting_scale == 0.0029
    message = fit.message()
    assert message.startswith("influencer-spike peaks at 120,000 players (~38,000 req/s); ")
    assert "holds about 350 players" in message
    assert "on this 2-core machine (bench 2026-12-01: 350 players, 112 req/s)" in message
    assert "340x beyond. Use --scale 0.0029 to fit, --target URL" in message
    assert "docs/scaling-out.md" in message


def test_the_fitting_scale_fits_once_applied() -> None:
    for name in ("influencer-spike", "sports-final", "jackpot-promo", "baseline"):
        fit = fit_of(load_scenario(name))
        assert fit.fitting_scale is not None
        refit = fit_of(load_scenario(name).with_overrides(scale=fit.fitting_scale))
        assert refit.fit is Fit.FITS, (name, refit.ratio)
        assert refit.ratio > 0.9  # and not far below what the machine holds


def test_the_plan_is_named_when_the_command_exists() -> None:
    fit = check_fit(load_scenario("influencer-spike"), 2, BENCH, plan_command=True)
    assert fit is not None
    assert "`spikekit plan influencer-spike` for what 120,000 players need" in fit.message()
    scaled = check_fit(baseline(0.5), 2, BENCH, plan_command=True)
    assert scaled is not None
    assert "`spikekit plan baseline --scale 0.5` for what 4,000 players need" in scaled.message()


def test_a_faster_pace_holds_fewer_players() -> None:
    slow = fit_of(baseline(0.04, think_time=ThinkTime(min=2.0, max=5.0)))  # mean 3.5 s
    fast = fit_of(baseline(0.04, think_time=ThinkTime(min=0.5, max=2.0)))  # mean 1.25 s
    answer = 1 / 0.32 - 3.0
    assert slow.rps_per_player == pytest.approx(1 / (3.5 + answer))
    assert fast.rps_per_player == pytest.approx(1 / (1.25 + answer))
    assert fast.holds_players < 350 < slow.holds_players
    assert fast.holding.rps == slow.holding.rps == 112.0  # the platform holds requests


def test_paced_players_make_one_request_per_interval() -> None:
    paced = fit_of(baseline(0.04, think_time=ThinkTime(min=2.0, max=4.0, pacing=True)))
    assert paced.rps_per_player == pytest.approx(1 / 3.0)


def test_other_cores_scale_the_figure_and_say_it_is_an_estimate() -> None:
    four = fit_of(baseline(0.04), cores=4)
    assert four.holding.rps == pytest.approx(224.0)
    assert four.holds_players == 700
    assert four.holding.estimate
    assert (
        "bench 2026-12-01: 350 players, 112 req/s on 2 cores, scaled to 4 cores: an "
        "estimate" in four.message()
    )
    one = fit_of(baseline(0.04), cores=1)
    assert one.holds_players == 175
    assert one.fit is Fit.FAR_BEYOND  # 320 of 175: 1.8x
    assert "scaled to 1 core: an estimate" in one.message()


def test_without_a_bench_figure_the_estimate_comes_from_cores_and_cpu_cost() -> None:
    fit = check_fit(baseline(0.04), 2, None, missing="no bench figure in capacity.json")
    assert fit is not None
    assert fit.holding.estimate
    assert fit.holding.rps == pytest.approx(2 * 1000 / ESTIMATE_CPU_MS * KNEE_BUSY)  # 109
    assert 330 <= fit.holds_players <= 360  # near what the bench measured
    message = fit.message()
    assert (
        "(estimate: 2 cores x 1000 / 11 ms of CPU per request x 0.6 busy at the knee; "
        "no bench figure in capacity.json)" in message
    )


def test_a_censored_knee_says_at_least() -> None:
    censored = BENCH.model_copy(update={"censored": True})
    assert "bench 2026-12-01: at least 350 players" in fit_of(baseline(0.04), 2, censored).message()


def test_a_platform_of_your_own_is_not_judged() -> None:
    foreign = baseline(target=UrlTarget(url="http://127.0.0.1:8080"))
    assert check_fit(foreign, 2, BENCH) is None
    assert check_fit(foreign, 2, None) is None


def test_the_record_for_the_run_directory_carries_the_figures() -> None:
    fit = fit_of(load_scenario("influencer-spike"))
    record = fit.record()
    assert record.fit == "far beyond"
    assert (record.peak_players, record.holds_players, record.cores) == (120_000, 350, 2)
    assert record.fitting_scale == 0.0029
    assert record.message == fit.message()
    assert not record.estimate


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.002916, 0.0029), (0.0437, 0.043), (0.99, 0.99), (0.0020001, 0.002), (12.7, 12.0)],
)
def test_scales_are_rounded_down_to_two_significant_digits(value: float, expected: float) -> None:
    assert floor_significant(value) == expected
