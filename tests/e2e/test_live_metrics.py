"""A live run is visible in a real Prometheus, its fault as a series (``--metrics-port``).

The example API (examples/own-platform/server.py, declarative journeys) behind a real
Toxiproxy is the target; its ``network.latency`` fault on the proxy ``lucky-api`` is the
fault. A real Prometheus (``make prometheus``) scrapes the run's ``--metrics-port`` each
second; after the run, its query API must hold every series, ``spikekit_fault_active`` at 1
within the fault's journaled window only, request totals that agree with ``summary.json``
(within one second's worth of requests), and the metrics port must be free again — also
after a run a stop condition aborted. Everything started here is stopped by its PID.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

from spikekit.ports import free_port, is_listening
from spikekit.rundir.journal import FaultInjected, FaultReverted, read_journal
from spikekit.rundir.layout import JOURNAL, META, SUMMARY, TIMESERIES
from spikekit.toxiproxy.client import ToxiproxyClient
from spikekit.toxiproxy.server import ToxiproxyServer, find_toxiproxy_server
from tests.conftest import require_toxiproxy
from tests.e2e.helpers import spikekit
from tests.e2e.lucky import EXAMPLE, wait_healthy
from tests.prometheus_server import Prometheus, prometheus_server

DOCS = Path(__file__).resolve().parents[2] / "docs"
SERIES = {
    "spikekit_players_target",
    "spikekit_players_actual",
    "spikekit_requests_total",
    "spikekit_failures_total",
    "spikekit_latency_ms",
    "spikekit_generator_cpu_percent",
    "spikekit_generator_errors_total",
    "spikekit_fault_active",
    "spikekit_slo_value",
    "spikekit_slo_breached",
    "spikekit_run_phase",
    "spikekit_run_elapsed_seconds",
    "spikekit_run_planned_seconds",
    "spikekit_run_info",
}


@dataclass(frozen=True)
class Setup:
    url: str  # Toxiproxy's listener in front of the example server
    toxiproxy: str  # Toxiproxy's API
    metrics_port: int  # what the runs serve on, and Prometheus scrapes
    prometheus: Prometheus
    folder: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """Prometheus first (its first scrape comes ~5 s after it starts), then the server and
    Toxiproxy; shared by both runs of this module."""
    require_toxiproxy()
    binary = find_toxiproxy_server()
    assert binary is not None
    folder = tmp_path_factory.mktemp("live-metrics")
    metrics_port, port = free_port(), free_port()
    with prometheus_server(folder / "prometheus", [f"127.0.0.1:{metrics_port}"]) as prometheus:
        log = (folder / "server.log").open("wb")
        argv = [sys.executable, str(EXAMPLE / "server.py"), "--port", str(port)]
        server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", server)
            with ToxiproxyServer(binary, log_file=folder / "toxiproxy.log") as toxiproxy:
                with ToxiproxyClient(toxiproxy.url) as client:
                    proxy = client.create_proxy(
                        "lucky-api", listen="127.0.0.1:0", upstream=f"127.0.0.1:{port}"
                    )
                url = f"http://{proxy.listen}"
                yield Setup(url, toxiproxy.url, metrics_port, prometheus, folder)
        finally:
            server.terminate()  # by its PID: the process this fixture started
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
            log.close()


def _scenario(setup: Setup, name: str, **change: Any) -> Path:
    """The journeys example: 2 s ramp to 8 players, 8 s hold, slow-api from 3 s to 7 s."""
    data = yaml.safe_load((EXAMPLE / "scenario-journeys.yaml").read_text())
    data["name"] = name
    data["target"] = {"url": setup.url}  # no ledger: the audit is not this test's
    data["load"]["stages"] = [
        {"duration": "2s", "players": 8, "ramp": "linear"},
        {"duration": "8s", "players": 8},
    ]
    data.pop("steady_state")  # the fault goes on at its time
    data["faults"][0].update({"at": "3s", "duration": "4s"})
    data.update(change)
    path = setup.folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _run(setup: Setup, scenario: Path, out: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    argv = ["run", str(scenario), "--out", str(out), "--toxiproxy", setup.toxiproxy]
    argv += ["--workers", "1", "--metrics-port", str(setup.metrics_port)]
    result = spikekit(*argv, timeout=150)
    said = result.stdout + result.stderr
    [run_dir] = [p for p in out.iterdir() if p.is_dir()]
    assert f"live metrics: http://127.0.0.1:{setup.metrics_port}/metrics" in said, said
    assert not is_listening(setup.metrics_port), "the metrics port is still open"
    return result, run_dir


def _range(prometheus: Prometheus, query: str, start: float, end: float) -> list[Any]:
    answer = httpx.get(
        f"{prometheus.url}/api/v1/query_range",
        params={"query": query, "start": start, "end": end, "step": "1s"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    result: list[Any] = answer.json()["data"]["result"]
    return result


def _instant(prometheus: Prometheus, query: str, at: float) -> list[Any]:
    answer = httpx.get(
        f"{prometheus.url}/api/v1/query", params={"query": query, "time": at}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    result: list[Any] = answer.json()["data"]["result"]
    return result


def test_a_live_run_is_in_prometheus_with_its_fault_as_a_series(setup: Setup) -> None:
    result, run_dir = _run(setup, _scenario(setup, "live-metrics"), setup.folder / "runs")
    said = result.stdout + result.stderr
    assert result.returncode in (0, 1), said
    meta = json.loads((run_dir / META).read_text())
    summary = json.loads((run_dir / SUMMARY).read_text())
    prom = setup.prometheus
    time.sleep(0.5)  # the last scrape is written to the TSDB's head
    # up to now: the port closes after the report is written, the last scrape comes then
    start, end = meta["started_at"] - 10, max(meta["ended_at"] + 1, time.time())

    # every series is there, for this run
    names = {
        s["metric"]["__name__"]
        for s in _instant(prom, 'last_over_time({__name__=~"spikekit_.+"}[2m])', end)
    }
    assert names >= SERIES, SERIES - names
    [info] = _instant(prom, "last_over_time(spikekit_run_info[2m])", end)
    assert info["metric"]["run"] == run_dir.name and info["metric"]["scenario"] == "live-metrics"

    # the fault: 1 within its journaled window (a scrape is up to a second late), 0 around it
    events = read_journal(run_dir / JOURNAL)
    [injected] = [e for e in events if isinstance(e, FaultInjected)]
    [reverted] = [e for e in events if isinstance(e, FaultReverted)]
    [fault] = _range(prom, 'spikekit_fault_active{fault_id="slow-api"}', start, end)
    assert fault["metric"]["type"] == "network.latency"
    assert fault["metric"]["target"] == "lucky-api"
    on = [float(ts) for ts, v in fault["values"] if v == "1"]
    off = [float(ts) for ts, v in fault["values"] if v == "0"]
    assert on, fault["values"]
    assert injected.ts - 0.1 <= min(on) and max(on) <= reverted.ts + 2.5, (on, injected, reverted)
    assert max(on) - min(on) >= 2  # a 4 s fault seen for more than one scrape
    assert any(ts < injected.ts for ts in off) and any(ts > reverted.ts for ts in off)

    # the request totals agree with summary.json, within one second's worth of requests
    total = summary["key_numbers"]["total_requests"]
    [served] = _instant(prom, "sum(last_over_time(spikekit_requests_total[2m]))", end)
    frame = pd.read_parquet(run_dir / TIMESERIES)
    per_s = int(frame[frame.endpoint == "*"].requests.max())
    assert abs(float(served["value"][1]) - total) <= per_s, (served, total, per_s)
    by_endpoint = {
        s["metric"]["endpoint"]
        for s in _instant(prom, "last_over_time(spikekit_requests_total[2m])", end)
    }
    assert "POST /v2/wagers" in by_endpoint and "*" not in by_endpoint

    # the phases went ramp → hold → teardown; the latency quantiles per endpoint
    phases = {
        (s["metric"]["phase"], s["metric"]["stage"])
        for s in _range(prom, "spikekit_run_phase == 1", start, end)
    }
    assert {("ramp", "1"), ("hold", "2"), ("teardown", "0")} <= phases, phases
    quantiles = _range(prom, 'spikekit_latency_ms{endpoint="POST /v2/wagers"}', start, end)
    assert {s["metric"]["quantile"] for s in quantiles} == {"0.5", "0.95", "0.99"}
    slos = {s["metric"]["slo"] for s in _range(prom, "spikekit_slo_breached", start, end)}
    assert slos == {"errors", "wager p95"}
    [planned] = _instant(prom, "last_over_time(spikekit_run_planned_seconds[2m])", end)
    assert float(planned["value"][1]) == 10
    _check_the_documented_panels(prom, at=injected.ts + 2)


def _check_the_documented_panels(prometheus: Prometheus, at: float) -> None:
    """Every PromQL of docs/live-metrics.md's dashboard answers, during the fault, from
    this run's series (only the incidents' panel may be empty: there were none)."""
    text = (DOCS / "live-metrics.md").read_text()
    layout = json.loads(text.split("```json\n")[1].split("```")[0])
    exprs = [t["expr"] for panel in layout["panels"] for t in panel["targets"]]
    assert len(exprs) >= 11
    for expr in exprs:
        found = _instant(prometheus, expr.replace("$job", "app"), at)
        assert found or "incidents" in expr, expr


def test_an_aborted_run_closes_its_metrics_port(setup: Setup) -> None:
    """A stop condition no second meets (p95 above 0 ms) ends the run at its first second."""
    stop = [{"metric": "latency_p95", "threshold": 0, "sustained": "1s"}]
    scenario = _scenario(setup, "live-metrics-aborted", stop_conditions=stop)
    result, run_dir = _run(setup, scenario, setup.folder / "runs-aborted")
    assert result.returncode == 3, result.stdout + result.stderr
    meta = json.loads((run_dir / META).read_text())
    assert meta["abort_reason"].startswith("stop condition: latency_p95"), meta
