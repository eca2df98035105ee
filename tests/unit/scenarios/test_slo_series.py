"""The business SLO metrics and ``series`` in scenario files: good ones load, bad ones give
one problem naming the field."""

from __future__ import annotations

import pytest

from spikekit.errors import ScenarioError
from spikekit.scenarios import parse_scenario
from spikekit.scenarios.loader import dump_scenario
from spikekit.scenarios.slo import SLOMetric

HEAD = """\
name: mine
target: {url: "http://127.0.0.1:9000"}
load: {model: closed, stages: [{duration: 1m, players: 10}]}
slos:
"""


def _problems(slo: str) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEAD + slo, "mine.yaml")
    return list(caught.value.problems)


def test_business_metrics_and_a_series_mapping_load_and_dump_back() -> None:
    text = HEAD + (
        "  - {name: deposits, metric: deposit_completion_p95, threshold: 30000,\n"
        "     series: {metric: payments_deposit_p95_ms, service: payments,\n"
        "              labels: {status: ok, region: [eu, us]}}}\n"
        "  - {name: launches, metric: launch_success_rate, threshold: 0.99,\n"
        "     series: {metric: launches_ok_per_s, per: launches_per_s}}\n"
        "  - {name: open rounds, metric: unsettled_rounds, threshold: 0, series: open_rounds}\n"
        "  - {name: rollbacks, metric: round_rollback_rate, threshold: 0.05}\n"
        "  - {name: payouts, metric: withdrawal_completion_p95, threshold: 60000}\n"
    )
    scenario = parse_scenario(text, "mine.yaml")
    deposits, launches, rounds, rollbacks, payouts = scenario.slos
    assert deposits.series is not None and deposits.series.labels == {
        "status": ["ok"],
        "region": ["eu", "us"],
    }
    assert deposits.series.accepts({"status": "ok", "region": "us", "instance": "a"})
    assert not deposits.series.accepts({"status": "ok", "region": "asia"})
    assert not deposits.series.accepts({"region": "eu"})
    assert launches.is_floor and launches.series is not None
    assert launches.series.per is not None and launches.series.per.metric == "launches_per_s"
    assert rounds.at_end and rounds.series is not None and rounds.series.metric == "open_rounds"
    assert rollbacks.series is None and not rollbacks.at_end and not rollbacks.is_floor
    assert payouts.metric is SLOMetric.WITHDRAWAL_COMPLETION_P95
    assert parse_scenario(dump_scenario(scenario)) == scenario


@pytest.mark.parametrize(
    ("slo", "path", "expected"),
    [
        (
            "{name: a, metric: latency_p95, threshold: 1, series: x_p95_ms}",
            "slos[0].series",
            "no series for latency_p95, which the load engine measures",
        ),
        (
            "{name: a, metric: deposit_completion_p95, threshold: 1, series: {metric: '9x'}}",
            "slos[0].series.metric",
            "a metric name as recorded",
        ),
        (
            "{name: a, metric: deposit_completion_p95, threshold: 1, series: {metric: x, "
            "labels: {kind: 3}}}",
            "slos[0].series.labels",
            "label 'kind': a value or a list",
        ),
        (
            "{name: a, metric: deposit_completion_p95, threshold: 1, series: {metric: x, "
            "labels: {kind: []}}}",
            "slos[0].series.labels",
            "label 'kind': a value or a list",
        ),
        (
            "{name: a, metric: deposit_completion_p95, threshold: 1, series: {metric: x, "
            "labels: {'a-b': x}}}",
            "slos[0].series.labels",
            "label names like",
        ),
        (
            "{name: a, metric: deposit_completion_p95, threshold: 1, series: {metric: x, "
            "factor: 0}}",
            "slos[0].series.factor",
            "greater than 0",
        ),
        (
            "{name: a, metric: round_rollback_rate, threshold: 1, series: {metric: x, "
            "per: {metric: 'y z'}}}",
            "slos[0].series.per.metric",
            "a metric name as recorded",
        ),
        (
            "{name: a, metric: round_rollback_rate, threshold: 1, series: {metric: x, "
            "colour: red}}",
            "slos[0].series.colour",
            "no such field",
        ),
        (
            "{name: a, metric: unsettled_rounds, threshold: 1, series: 5}",
            "slos[0].series",
            "a metric name or a mapping",
        ),
        (
            "{name: a, metric: launch_rate, threshold: 1}",
            "slos[0].metric",
            "launch_success_rate",
        ),
    ],
)
def test_a_bad_series_is_one_problem_naming_the_field(slo: str, path: str, expected: str) -> None:
    problems = _problems(f"  - {slo}\n")
    assert len(problems) == 1, problems
    field, message = problems[0]
    assert field == path
    assert expected in message
    assert "\n" not in message


def test_too_many_labels_are_refused() -> None:
    labels = ", ".join(f"l{i}: v" for i in range(17))
    problems = _problems(
        f"  - {{name: a, metric: stream_lag, threshold: 1, series: {{metric: x, "
        f"labels: {{{labels}}}}}}}\n"
    )
    assert problems == [("slos[0].series.labels", problems[0][1])]
    assert "at most 16 labels" in problems[0][1]
