"""Prometheus query answers → rows, the recorder's latest second, and stop conditions fed
from it. Pure: the answers are Prometheus's JSON as its HTTP API writes it."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx
import pytest

from spikekit.chaos.stop import StopConditions
from spikekit.run.live import second_stats, signal_values
from spikekit.rundir.live import SecondSummary
from spikekit.scenarios.model import StopCondition
from spikekit.scenarios.slo import SLO, SeriesRef
from spikekit.scenarios.telemetry import NamedQuery
from spikekit.telemetry.latest import LatestSecond, tick_rows
from spikekit.telemetry.promql import MAX_SERIES, PromqlError, PromqlFeed, samples

VECTOR = {
    "status": "success",
    "data": {
        "resultType": "vector",
        "result": [
            {
                "metric": {"__name__": "queue_depth", "job": "app", "queue": "b"},
                "value": [1796221675.49, "7"],
            },
            {"metric": {"queue": "a", "job": "app"}, "value": [1796221675.49, "3.5"]},
            {"metric": {"queue": "c"}, "value": [1796221675.49, "NaN"]},
            {"metric": {"queue": "d"}, "value": [1796221675.49, "+Inf"]},
        ],
    },
}


def test_a_vector_gives_one_sample_per_finite_series_without_its_name() -> None:
    assert samples(VECTOR) == [
        ((("job", "app"), ("queue", "b")), 7.0),
        ((("job", "app"), ("queue", "a")), 3.5),
    ]


def test_a_scalar_is_one_unlabelled_sample_and_an_empty_vector_none() -> None:
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1.5, "42"]}}
    assert samples(scalar) == [((), 42.0)]
    empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
    assert samples(empty) == []


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (
            {
                "status": "error",
                "errorType": "bad_data",
                "error": '1:5: parse error: unexpected "}"',
            },
            'bad_data: 1:5: parse error: unexpected "}"',
        ),
        (
            {"status": "success", "data": {"resultType": "matrix", "result": []}},
            "an instant vector or a scalar, got a matrix (write the query without a range",
        ),
        (
            {"status": "success", "data": {"resultType": "string", "result": [1, "x"]}},
            "an instant vector or a scalar, got a string",
        ),
        ({"status": "success"}, "a 'data' object"),
        ([1, 2], "a JSON object"),
        (
            {"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, 2]}]}},
            'a [time, "value"] pair',
        ),
        (
            {"status": "success", "data": {"resultType": "scalar", "result": [1, "many"]}},
            "a number as the value",
        ),
    ],
)
def test_an_answer_without_samples_says_why(answer: object, says: str) -> None:
    with pytest.raises(PromqlError) as caught:
        samples(answer)
    assert says in str(caught.value)


def _latest(t: int = 5) -> LatestSecond:
    return LatestSecond(
        t,
        tick_rows(
            [
                ("prometheus", "depth", (("queue", "a"),), 3.0),
                ("prometheus", "depth", (("queue", "b"),), 9.0),
                ("api", "depth", (("queue", "a"),), 50.0),
            ]
        ),
    )


def test_the_latest_second_gives_the_worst_matching_label_set() -> None:
    latest = _latest()
    assert latest.worst(SeriesRef(metric="depth")) == 50.0
    assert latest.worst(SeriesRef(metric="depth", service="prometheus")) == 9.0
    assert latest.worst(SeriesRef(metric="depth", service="prometheus"), floor=True) == 3.0
    ref = SeriesRef(metric="depth", service="prometheus", labels={"queue": ["a"]})
    assert latest.worst(ref) == 3.0
    assert latest.worst(SeriesRef(metric="other")) is None


def _summary(t: int) -> SecondSummary:
    nan = math.nan
    return SecondSummary(
        t=t,
        target_players=1,
        actual_players=1,
        requests=0,
        failures=0,
        generator_errors=0,
        p50_ms=nan,
        p95_ms=nan,
        p99_ms=nan,
        max_ms=nan,
    )


def test_a_stop_condition_on_a_series_stops_on_the_recorders_values_and_not_on_stale_ones() -> None:
    deep = StopCondition(
        metric="query",
        series={"metric": "depth", "service": "prometheus"},
        threshold=5,
        sustained=2,
    )
    stops = StopConditions([deep])
    assert signal_values([deep], _latest(t=1), t=5) == {}  # 4 s behind the load: no data
    assert stops.feed(second_stats(_summary(4), signal_values([deep], _latest(4), 4))) is None
    reason = stops.feed(second_stats(_summary(5), signal_values([deep], _latest(5), 5)))
    assert reason is not None
    assert "query on prometheus/depth above 5 for 2s (last value 9 at t=5s)" in reason


def test_query_slos_get_live_values_too_for_the_steady_state_gate() -> None:
    deep = SLO.model_validate(
        {"name": "deep", "metric": "query", "threshold": 1,
         "series": {"metric": "depth", "service": "prometheus", "factor": 10}}
    )  # fmt: skip
    ratio = SLO.model_validate(
        {"name": "ratio", "metric": "query", "threshold": 1,
         "series": {"metric": "depth", "per": "depth"}}
    )  # fmt: skip
    assert deep.signal == "prometheus/depth"
    assert signal_values([deep, ratio], _latest(), 5) == {(deep.metric, "prometheus/depth"): 90.0}


def _answering(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    """httpx's own in-memory transport: a fake Prometheus, no network (unit layer)."""
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_a_timeout_is_no_data_said_once_and_a_huge_answer_is_cut_and_said_once() -> None:
    said: list[str] = []
    slow, wide = NamedQuery("slow", "up"), NamedQuery("wide", "up")
    feed = PromqlFeed("http://127.0.0.1:9", [slow, wide], say=said.append)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    many = [{"metric": {"i": str(i)}, "value": [1, "1"]} for i in range(MAX_SERIES + 5)]
    vector = {"status": "success", "data": {"resultType": "vector", "result": many}}
    with _answering(timeout) as client:
        outcomes = [feed.evaluate(client, slow, 1.0) for _ in range(3)]
    assert all(o.samples == () and o.error == "no answer within 0.8 s" for o in outcomes)
    with _answering(lambda _: httpx.Response(200, json=vector)) as client:
        cut = [feed.evaluate(client, wide, 1.0) for _ in range(2)]
    assert [len(o.samples) for o in cut] == [MAX_SERIES, MAX_SERIES]
    assert len(said) == 2 and "slow failed (no answer within 0.8 s)" in said[0]
    assert f"only the first {MAX_SERIES} are recorded" in said[1]
    assert feed.summary() == [
        "telemetry: PromQL query slow recorded nothing in 3 second(s) "
        "(last: no answer within 0.8 s)"
    ]
