"""The live view's frame, rendered into Rich's recording console and read back as text.

The plan is the bundled ``smoke`` scenario's (a 10 s ramp to 50 players, a 30 s hold, a
10 s ramp down; a provider fault at 20 s for 10 s; an error-rate SLO of 5 %).
"""

from __future__ import annotations

import math

import pytest
from rich.console import Console

from spikekit.cli.live_frame import TOP_ENDPOINTS, LiveFrame, Plan, sparkline
from spikekit.run.live import second_stats
from spikekit.run.live_metrics import LiveMetrics
from spikekit.rundir.journal import FaultInjected, FaultPlanned, FaultReverted
from spikekit.rundir.live import SecondSummary
from spikekit.scenarios.loader import load_scenario

LOGIN, LOBBY, ROUNDS = "POST /api/login", "GET /api/lobby", "POST /api/games/{game}/rounds"


def _second(
    t: int,
    *,
    requests: int = 40,
    failures: int = 0,
    p95: float = 80.0,
    endpoints: dict[str, tuple[int, int, float]] | None = None,
) -> SecondSummary:
    return SecondSummary(
        t=t,
        target_players=50,
        actual_players=48,
        requests=requests,
        failures=failures,
        generator_errors=0,
        p50_ms=20.0,
        p95_ms=p95,
        p99_ms=150.0,
        max_ms=300.0,
        generator_cpu_max=12.0,
        endpoints=endpoints
        if endpoints is not None
        else {LOBBY: (25, 0, 30.0), ROUNDS: (10, failures, 90.0), LOGIN: (5, 0, 400.0)},
    )


def _text(frame: LiveFrame) -> str:
    console = Console(record=True, width=160)
    console.print(frame.render())
    return console.export_text()


@pytest.fixture
def frame() -> LiveFrame:
    return LiveFrame(Plan.of(load_scenario("smoke"), "spikekit run smoke"))


def test_the_progress_and_the_stage_follow_the_seconds(frame: LiveFrame) -> None:
    assert "waiting for the first second" in _text(frame)
    frame.second(_second(4))
    text = _text(frame)
    assert "5 s of 50 s (10%)" in text
    assert "stage 1/3 ramp to 50 players (0–10 s)" in text
    assert "players 48 / 50  req/s 40" in text
    for t in range(5, 21):
        frame.second(_second(t))
    text = _text(frame)
    assert "21 s of 50 s (42%)" in text and "stage 2/3 hold to 50 players (10–40 s)" in text
    frame.second(_second(45))
    assert "stage 3/3 ramp to 0 players (40–50 s)" in _text(frame)
    frame.second(_second(51))  # past the end of the shape: the last players stopping
    text = _text(frame)
    assert "50 s of 50 s (100%), +2 s" in text and "the load shape has ended" in text


def _planned(at: float, duration: float | None) -> FaultPlanned:
    return FaultPlanned(
        ts=0.0,
        t=0.0,
        fault_id="slow-provider",
        fault="provider.latency",
        target="provider-a",
        planned_t=at,
        duration_s=duration,
        params={},
    )


def _injected(t: float, planned_t: float) -> FaultInjected:
    return FaultInjected(
        ts=0.0,
        t=t,
        fault_id="slow-provider",
        fault="provider.latency",
        target="provider-a",
        planned_t=planned_t,
        params={},
    )


def _reverted(ok: bool) -> FaultReverted:
    return FaultReverted(
        ts=0.0,
        t=30.0,
        fault_id="slow-provider",
        fault="provider.latency",
        target="provider-a",
        ok=ok,
        error=None if ok else "toxiproxy said 500",
    )


def test_an_active_fault_shows_the_time_left_until_its_planned_revert(frame: LiveFrame) -> None:
    frame.fault_event(_planned(20.0, 10.0))
    frame.second(_second(19))
    assert "faults: none active" in _text(frame)
    frame.fault_event(_injected(20.3, 20.0))  # injected late: the revert is still at 30 s
    frame.second(_second(23))
    assert "slow-provider provider.latency on provider-a: 6 s left" in _text(frame)
    frame.fault_event(_reverted(ok=False))  # still on: still listed
    frame.second(_second(30))
    assert "slow-provider provider.latency on provider-a: 0 s left" in _text(frame)
    frame.fault_event(_reverted(ok=True))
    assert "faults: none active" in _text(frame)


def test_a_fault_without_a_duration_lasts_until_the_end(frame: LiveFrame) -> None:
    frame.fault_event(_planned(5.0, None))
    frame.fault_event(_injected(5.0, 5.0))
    frame.second(_second(6))
    assert "slow-provider provider.latency on provider-a: until the end" in _text(frame)


def _slo_line(text: str, name: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(f"{name} ")]
    return line


def test_each_slo_is_met_or_breached_with_its_live_value(frame: LiveFrame) -> None:
    for t in range(10):  # 10 % errors over the error rate's 10 s window: above 5 %
        frame.second(_second(t, requests=40, failures=4))
    text = _text(frame)
    assert _slo_line(text, "error rate").split()[-4:] == ["0.1", "≤", "0.05", "BREACHED"]
    assert "400" in _slo_line(text, "login p95") and "met" in _slo_line(text, "login p95")
    assert "≥ 0.9" in _slo_line(text, "launch success")  # a floor
    assert "no live value" in _slo_line(text, "wallet p95")  # judged from the platform's data
    for t in range(10, 20):  # the window slides past the errors
        frame.second(_second(t))
    assert "met" in _slo_line(_text(frame), "error rate")


def test_the_slo_values_are_those_of_the_prometheus_endpoint(frame: LiveFrame) -> None:
    scenario = load_scenario("smoke")
    metrics = LiveMetrics(scenario)
    for t in range(15):
        summary = _second(t, requests=40 + t, failures=t % 4, p95=50.0 + t)
        frame.second(summary)
        metrics.second(summary, second_stats(summary))
    for estimate in frame.slo_states():
        slo = estimate.slo
        served = metrics.registry.get_sample_value(
            "spikekit_slo_value", {"slo": slo.name, "metric": slo.metric.value}
        )
        assert served is not None
        assert (math.isnan(served) and math.isnan(estimate.value)) or served == estimate.value
        breached = metrics.registry.get_sample_value("spikekit_slo_breached", {"slo": slo.name})
        assert breached == (1.0 if estimate.breached else 0.0)


def test_the_endpoint_table_lists_the_hottest_first_and_at_most_ten(frame: LiveFrame) -> None:
    frame.second(_second(3))
    text = _text(frame)
    rows = [line for line in text.splitlines() if line.startswith((LOBBY, ROUNDS, LOGIN))]
    assert rows[0].split()[:4] == ["GET", "/api/lobby", "25", "30"]
    assert rows[1].split()[:4] == ["POST", "/api/games/{game}/rounds", "10", "90"]
    assert rows[2].split()[:4] == ["POST", "/api/login", "5", "400"]
    many = {f"GET /api/e{i:02d}": (i + 1, i % 2, 10.0 + i) for i in range(TOP_ENDPOINTS + 2)}
    frame.second(_second(4, endpoints=many))
    text = _text(frame)
    assert "GET /api/e11" in text and "GET /api/e02" in text
    assert "GET /api/e01" not in text and "GET /api/e00" not in text  # the coldest two
    assert "… 2 more" in text
    assert text.index("GET /api/e11") < text.index("GET /api/e10") < text.index("GET /api/e02")
    [row] = [line for line in text.splitlines() if line.startswith("GET /api/e11")]
    assert row.split()[2:] == ["12", "21", "ms", "8.3%"]  # 12 req/s, p95 21 ms, 1 error in 12


def test_sparklines_scale_from_zero_to_the_largest() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5.0, math.nan, 10.0]) == "▅ █"
    assert sparkline([0.0, 0.0]) == "▁▁"
    assert sparkline(list(range(100)), width=60) == sparkline(list(range(40, 100)), width=60)
    assert len(sparkline(list(range(100)))) == 60


def test_the_frame_draws_the_last_minute_as_sparklines(frame: LiveFrame) -> None:
    for t in range(70):  # only the last 60 s are drawn
        low = t < 40
        frame.second(_second(t, requests=10 if low else 80, p95=100.0, failures=0))
    lines = _text(frame).splitlines()
    [rps] = [line for line in lines if line.startswith("req/s ")]
    [p95] = [line for line in lines if line.startswith("p95 ")]
    [errors] = [line for line in lines if line.startswith("errors ")]
    assert "▂" * 30 + "█" * 30 in rps and rps.rstrip().endswith("80")
    assert "█" * 60 in p95 and p95.rstrip().endswith("100 ms")
    assert "▁" * 60 in errors and errors.rstrip().endswith("0.0%")


def test_seconds_without_requests_draw_no_latency(frame: LiveFrame) -> None:
    frame.second(_second(0, requests=0, p95=math.nan, endpoints={}))
    text = _text(frame)
    assert "p95 -  p99 150 ms" in text
    assert _slo_line(text, "error rate").split()[-3:] == ["no", "live", "value"]
