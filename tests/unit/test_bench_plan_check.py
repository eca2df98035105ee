"""The capacity-model check's pure parts: its steps, its prediction, its error."""

from __future__ import annotations

import itertools
import math

import pytest

from bench import plan_check
from spikekit.reference_platform.capacity import PlatformCapacity


def _capacity(knee_rps: float, rps_per_player: float) -> PlatformCapacity:
    return PlatformCapacity(
        knee_players=round(knee_rps / rps_per_player),
        censored=False,
        knee_rps=knee_rps,
        rps_per_player=rps_per_player,
        think_min_s=1.0,
        think_max_s=5.0,
        p95_ms=100.0,
        cpu_ms_per_request=5.0,
        cpu_ms_by_process={"wallet": 1.0},
        cores=2,
        cpu_model="test",
        date="2026-12-02",
        commit="test",
        command="test",
        source="test",
    )


def test_steps_are_increasing_tens_around_the_centre() -> None:
    steps = plan_check.steps_around(517, plan_check.VARIANT_SPREAD)
    assert steps == tuple(sorted(set(steps)))
    assert all(s % 10 == 0 for s in steps)
    assert steps[0] == 310 and 520 in steps and steps[-1] == 1030


def test_twice_the_pace_halves_the_predicted_knee_less_the_answer_time() -> None:
    # 0.32 req/s per player at a 3 s mean think: 0.125 s of answer per action
    capacity = _capacity(320.0, 0.32)
    probe = plan_check._plan(100, (1.0,), plan_check.Config(quick=True))
    predicted = plan_check.predicted_knee(capacity, probe, 2)
    cycle = (0.5 + 2.5) / 2 + (1 / 0.32 - 3.0)
    assert predicted == round(320.0 * cycle)
    assert 0.45 < predicted / capacity.knee_players < 0.6


def test_the_error_and_its_range_follow_the_steps_held() -> None:
    check = plan_check.Check(predicted=500, held=550, above=600)
    assert check.error == pytest.approx(500 / 550 - 1)
    low, high = check.error_range or (0.0, 0.0)
    assert low == pytest.approx(500 / 600 - 1) and high == pytest.approx(500 / 550 - 1)
    assert check.met
    assert not plan_check.Check(predicted=500, held=700, above=None).met
    span = plan_check.Check(predicted=500, held=400, above=None).error_range
    assert span is not None and math.isinf(span[0])
    assert plan_check.Check(predicted=500, held=None, above=310).error is None


def test_the_reference_starts_far_below_the_recorded_knee() -> None:
    # the recorded knee may be another day's: a slower machine holds fewer
    steps = plan_check.steps_around(1000, plan_check.SPREAD)
    assert steps[0] == 300 and steps[-1] >= 1600
    ratios = [b / a for a, b in itertools.pairwise(steps)]
    assert max(ratios) < 1.15
