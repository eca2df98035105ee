"""Stop conditions fed one second at a time."""

from __future__ import annotations

from spikekit.chaos.stop import SecondStats, StopConditions
from spikekit.scenarios.model import StopCondition
from spikekit.scenarios.slo import SLOMetric

ERRORS = (SLOMetric.ERROR_RATE, "*")


def _second(t: int, error_rate: float | None) -> SecondStats:
    return SecondStats(t, {} if error_rate is None else {ERRORS: error_rate})


def test_stops_once_the_breach_has_held_for_the_whole_sustained_time() -> None:
    stops = StopConditions([StopCondition(metric="error_rate", threshold=0.5, sustained=3)])
    fed = [stops.feed(_second(t, rate)) for t, rate in enumerate([0.9, 0.9, 0.1, 0.9, 0.9, 0.9])]
    assert fed[:5] == [None] * 5
    assert fed[5] is not None and "error_rate on * above 0.5 for 3s" in fed[5]
    assert stops.feed(_second(6, 0.0)) == fed[5]


def test_a_second_without_data_breaks_the_streak_and_floors_stop_below() -> None:
    login = StopCondition(metric="login_success_rate", threshold=0.9, sustained=2)
    stops = StopConditions([login])
    key = (SLOMetric.LOGIN_SUCCESS_RATE, "*")
    assert stops.feed(SecondStats(0, {key: 0.5})) is None
    assert stops.feed(SecondStats(1, {})) is None
    assert stops.feed(SecondStats(2, {key: 0.5})) is None
    reason = stops.feed(SecondStats(3, {key: 0.5}))
    assert reason is not None and "below 0.9" in reason
