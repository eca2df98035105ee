"""The run's live registry: one second (and journal events) in, the series and values out.

No server here: the samples are read from the registry itself, and once through the text
exposition prometheus-client serves, parsed back with its own parser.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from spikekit.chaos.stop import SecondStats
from spikekit.load.result import GeneratorIncident, IncidentKind
from spikekit.run.live import second_stats
from spikekit.run.live_metrics import LiveMetrics, phases_of
from spikekit.rundir.journal import FaultInjected, FaultPlanned, FaultReverted
from spikekit.rundir.live import SecondSummary
from spikekit.scenarios import SLO, Scenario, SLOMetric, load_scenario

LOGIN = "POST /api/login"
LOBBY = "GET /api/lobby"


@pytest.fixture
def scenario() -> Scenario:
    """smoke (ramp 10 s, hold 30 s, ramp down 10 s) with two SLOs of known windows."""
    slos = [
        SLO(name="errors", metric=SLOMetric.ERROR_RATE, threshold=0.1, window_s=2),
        SLO(name="login ok", metric=SLOMetric.LOGIN_SUCCESS_RATE, threshold=0.9,
            endpoint=LOGIN, window_s=3),
        SLO(name="wallet p95", metric=SLOMetric.WALLET_LATENCY_P95, threshold=50),
    ]  # fmt: skip
    return load_scenario("smoke").model_copy(update={"slos": slos})


def summary(
    t: int, *, login: tuple[int, int] = (10, 0), lobby: tuple[int, int] = (90, 0)
) -> SecondSummary:
    return SecondSummary(
        t=t,
        target_players=40,
        actual_players=38,
        requests=login[0] + lobby[0],
        failures=login[1] + lobby[1],
        generator_errors=1,
        p50_ms=12.0,
        p95_ms=80.0,
        p99_ms=150.0,
        max_ms=300.0,
        generator_cpu_max=37.5,
        endpoints={LOGIN: (*login, 120.0), LOBBY: (*lobby, 30.0)},
        endpoint_quantiles={LOGIN: (60.0, 200.0), LOBBY: (8.0, 45.0)},
    )


def feed(metrics: LiveMetrics, second: SecondSummary) -> None:
    metrics.second(second, second_stats(second))


def value(metrics: LiveMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_one_second_in_gives_every_series_of_it(scenario: Scenario) -> None:
    metrics = LiveMetrics(scenario)
    feed(metrics, summary(12, login=(10, 2), lobby=(90, 3)))
    assert value(metrics, "spikekit_players_target") == 40
    assert value(metrics, "spikekit_players_actual") == 38
    assert value(metrics, "spikekit_requests_total", endpoint=LOGIN) == 10
    assert value(metrics, "spikekit_requests_total", endpoint=LOBBY) == 90
    assert value(metrics, "spikekit_failures_total", endpoint=LOGIN) == 2
    assert value(metrics, "spikekit_failures_total", endpoint=LOBBY) == 3
    assert value(metrics, "spikekit_requests_total", endpoint="*") is None  # sum() them
    q = {"0.5": 60.0, "0.95": 120.0, "0.99": 200.0}
    for quantile, ms in q.items():
        assert value(metrics, "spikekit_latency_ms", endpoint=LOGIN, quantile=quantile) == ms
    assert value(metrics, "spikekit_latency_ms", endpoint="*", quantile="0.99") == 150.0
    assert value(metrics, "spikekit_generator_cpu_percent") == 37.5
    assert value(metrics, "spikekit_generator_errors_total") == 1
    assert value(metrics, "spikekit_run_elapsed_seconds") == 13
    assert value(metrics, "spikekit_run_planned_seconds") == 50
    # t = 12 is in the hold (stage 2): that one at 1, the others at 0
    assert value(metrics, "spikekit_run_phase", phase="hold", stage="2") == 1
    assert value(metrics, "spikekit_run_phase", phase="ramp", stage="1") == 0
    assert value(metrics, "spikekit_run_phase", phase="setup", stage="0") == 0


def test_the_counters_add_up_second_after_second(scenario: Scenario) -> None:
    metrics = LiveMetrics(scenario)
    for t in range(5):
        feed(metrics, summary(t, lobby=(90 + t, 1)))
    assert value(metrics, "spikekit_requests_total", endpoint=LOBBY) == 90 * 5 + 10
    assert value(metrics, "spikekit_failures_total", endpoint=LOBBY) == 5
    assert value(metrics, "spikekit_generator_errors_total") == 5


def test_the_phase_follows_the_shape_from_setup_to_teardown(scenario: Scenario) -> None:
    metrics = LiveMetrics(scenario)
    assert [(p.phase, p.stage) for p in phases_of(scenario)] == [
        ("ramp", "1"), ("hold", "2"), ("ramp", "3"),
    ]  # fmt: skip
    assert value(metrics, "spikekit_run_phase", phase="setup", stage="0") == 1
    seen = []
    for t in (0, 9, 10, 39, 40, 49, 50):  # 50: a late second past the shape's end
        feed(metrics, summary(t))
        [current] = [
            (s.labels["phase"], s.labels["stage"])
            for family in metrics.registry.collect()
            if family.name == "spikekit_run_phase"
            for s in family.samples
            if s.value == 1
        ]
        seen.append(current)
    assert seen == [("ramp", "1"), ("ramp", "1"), ("hold", "2"), ("hold", "2"),
                    ("ramp", "3"), ("ramp", "3"), ("ramp", "3")]  # fmt: skip
    metrics.ended()
    assert value(metrics, "spikekit_run_phase", phase="teardown", stage="0") == 1
    assert value(metrics, "spikekit_run_phase", phase="ramp", stage="3") == 0


def test_a_fault_is_1_while_injected_and_0_after_its_revert(scenario: Scenario) -> None:
    metrics = LiveMetrics(scenario)
    ids = {"fault_id": "slow-api", "fault": "network.latency", "target": "lucky-api"}
    labels = {"fault_id": "slow-api", "type": "network.latency", "target": "lucky-api"}
    stamp = {"ts": 1.0e9, "t": 0.0}
    metrics.fault_event(
        FaultPlanned(**stamp, **ids, planned_t=5, duration_s=6, params={"latency_ms": 400})
    )
    assert value(metrics, "spikekit_fault_active", **labels) == 0
    metrics.fault_event(FaultInjected(**stamp, **ids, planned_t=5, params={}))
    assert value(metrics, "spikekit_fault_active", **labels) == 1
    metrics.fault_event(FaultReverted(**stamp, **ids, ok=False, error="toxiproxy gone"))
    assert value(metrics, "spikekit_fault_active", **labels) == 1  # still on
    metrics.fault_event(FaultReverted(**stamp, **ids, ok=True))
    assert value(metrics, "spikekit_fault_active", **labels) == 0


def test_an_slo_is_the_mean_over_its_window_and_breached_past_its_threshold(
    scenario: Scenario,
) -> None:
    metrics = LiveMetrics(scenario)
    assert math.isnan(value(metrics, "spikekit_slo_value", slo="errors", metric="error_rate") or 0)
    feed(metrics, summary(0, lobby=(90, 0)))  # 0 % errors
    assert value(metrics, "spikekit_slo_value", slo="errors", metric="error_rate") == 0
    assert value(metrics, "spikekit_slo_breached", slo="errors") == 0
    feed(metrics, summary(1, login=(10, 0), lobby=(90, 30)))  # 30 %: mean of 0 and 0.3
    assert value(metrics, "spikekit_slo_value", slo="errors", metric="error_rate") == (
        pytest.approx(0.15)
    )
    assert value(metrics, "spikekit_slo_breached", slo="errors") == 1
    feed(metrics, summary(2))  # the 2 s window: 0.3 and 0
    feed(metrics, summary(3))  # now 0 and 0: back within
    assert value(metrics, "spikekit_slo_value", slo="errors", metric="error_rate") == 0
    assert value(metrics, "spikekit_slo_breached", slo="errors") == 0
    # a floor: login success under 0.9 over 3 s is a breach
    for t in (4, 5, 6):
        feed(metrics, summary(t, login=(10, 5)))
    ok = value(metrics, "spikekit_slo_value", slo="login ok", metric="login_success_rate")
    assert ok == pytest.approx(0.5)
    assert value(metrics, "spikekit_slo_breached", slo="login ok") == 1
    # a metric with no live value: NaN, never breached
    wallet = value(metrics, "spikekit_slo_value", slo="wallet p95", metric="wallet_latency_p95")
    assert wallet is not None and math.isnan(wallet)
    assert value(metrics, "spikekit_slo_breached", slo="wallet p95") == 0


def test_a_platform_signal_of_the_second_is_an_slo_value(scenario: Scenario) -> None:
    slo = SLO(name="lag", metric=SLOMetric.QUERY, threshold=5, query="sum(lag)", window_s=1)
    metrics = LiveMetrics(scenario.model_copy(update={"slos": [slo]}))
    assert slo.signal is not None
    stats = SecondStats(0, {(SLOMetric.QUERY, slo.signal): 9.0})
    metrics.second(summary(0), stats)
    assert value(metrics, "spikekit_slo_value", slo="lag", metric="query") == 9.0
    assert value(metrics, "spikekit_slo_breached", slo="lag") == 1


def test_incidents_and_the_run_are_labelled(scenario: Scenario) -> None:
    metrics = LiveMetrics(scenario)
    metrics.run_named("20261202-150000-smoke")
    metrics.incident(GeneratorIncident(3.0, IncidentKind.WORKER_LOST, "worker-1", "lost"))
    metrics.incident(GeneratorIncident(4.0, IncidentKind.WORKER_LOST, "worker-2", "lost"))
    kind = IncidentKind.WORKER_LOST.value
    assert value(metrics, "spikekit_generator_incidents_total", kind=kind) == 2
    info = {"scenario": "smoke", "run": "20261202-150000-smoke"}
    assert value(metrics, "spikekit_run_info", **info) == 1


def test_a_second_of_an_older_file_has_no_p50_p99_per_endpoint(scenario: Scenario) -> None:
    """``endpoint_quantiles`` is absent from ``live.jsonl`` lines written before it."""
    line = summary(0).to_json()
    del line["endpoint_quantiles"]
    old = SecondSummary.from_json(line)
    assert old.endpoint_quantiles == {}
    metrics = LiveMetrics(scenario)
    feed(metrics, old)
    p95 = value(metrics, "spikekit_latency_ms", endpoint=LOGIN, quantile="0.95")
    p99 = value(metrics, "spikekit_latency_ms", endpoint=LOGIN, quantile="0.99")
    assert p95 == 120.0 and p99 is not None and math.isnan(p99)


def test_the_exposition_parses_and_has_no_series_of_the_global_registry(
    scenario: Scenario,
) -> None:
    metrics = LiveMetrics(scenario)
    feed(metrics, summary(0))
    text = generate_latest(metrics.registry).decode()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"spikekit_requests", "spikekit_latency_ms", "spikekit_run_phase"} <= names
    assert not any(n.startswith(("process_", "python_")) for n in names), names


def test_docs_live_metrics_lists_every_series_the_registry_has(scenario: Scenario) -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "live-metrics.md").read_text()
    table = docs.split("## The series")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `(spikekit_\w+)`", table, flags=re.M))
    metrics = LiveMetrics(scenario)
    feed(metrics, summary(0))
    exposed = set()
    for family in metrics.registry.collect():
        suffix = "_total" if family.type == "counter" else ""
        exposed.add(family.name + suffix)
    assert documented == exposed


def test_a_per_endpoint_p99_slo_has_a_live_value(scenario: Scenario) -> None:
    slo = SLO(name="login p99", metric=SLOMetric.LATENCY_P99, endpoint=LOGIN, threshold=150)
    metrics = LiveMetrics(scenario.model_copy(update={"slos": [slo]}))
    feed(metrics, summary(0))  # the login's p99 is 200 ms
    assert value(metrics, "spikekit_slo_value", slo="login p99", metric="latency_p99") == 200
    assert value(metrics, "spikekit_slo_breached", slo="login p99") == 1
