"""A stop condition on a PromQL series ends a real run (``spikekit run``) early, and SLOs of
``metric: query`` are judged in its report.

The example API (examples/own-platform/server.py, declarative journeys) is the target;
a real Prometheus (``make prometheus``) scrapes its ``/metrics`` each second; the scenario
has only ``target: {url}`` and ``telemetry.prometheus``. The stop condition watches the
count of wagers the server answered, which only grows: once past 8 for 2 s the run must
stop, long before its 30 s. Everything started here is stopped by PID.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from spikekit.ports import free_port
from spikekit.rundir.layout import META, PLATFORM_METRICS, SUMMARY
from tests.e2e.helpers import spikekit
from tests.prometheus_server import Prometheus, prometheus_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "own-platform"
WAGERS = 'sum(lucky_requests_total{route="wagers"})'


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def prometheus(tmp_path: Path, port: int) -> Iterator[Prometheus]:
    """Started before the server: its ~5 s until the first scrape overlap the server's start."""
    with prometheus_server(tmp_path / "prometheus", [f"127.0.0.1:{port}"]) as found:
        yield found


@pytest.fixture
def server(tmp_path: Path, port: int, prometheus: Prometheus) -> Iterator[str]:
    log = (tmp_path / "server.log").open("wb")
    argv = [sys.executable, str(EXAMPLE / "server.py"), "--port", str(port)]
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, "the example server exited"
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the example server never answered"
                time.sleep(0.1)
        prometheus.wait_for("up == 1")  # the example's /metrics scraped once
        yield url
    finally:
        process.terminate()  # by its PID: the process this fixture started
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _scenario(folder: Path, server: str, prometheus: Prometheus) -> Path:
    data = yaml.safe_load((EXAMPLE / "scenario-journeys.yaml").read_text())
    data["name"] = "promql-stop"
    data["target"] = {"url": server}  # no ledger: the audit is not this test's
    data["load"]["stages"] = [
        {"duration": "2s", "players": 4, "ramp": "linear"},
        {"duration": "28s", "players": 4},
    ]
    data["faults"] = []
    data["telemetry"] = {
        "prometheus": {"url": prometheus.url, "queries": {"wagers_answered": WAGERS}}
    }
    data["slos"] += [
        {"name": "wagers answered", "metric": "query", "series": "wagers_answered",
         "threshold": 1_000_000},
        {"name": "served per s", "metric": "query",
         "query": "sum(rate(lucky_requests_total[5s]))", "threshold": 0.5, "floor": True},
    ]  # fmt: skip
    data["stop_conditions"] = [
        {"metric": "query", "query": WAGERS, "threshold": 8, "sustained": "2s"}
    ]
    path = folder / "promql-stop.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_stop_condition_on_a_promql_series_ends_the_run(
    tmp_path: Path, server: str, prometheus: Prometheus
) -> None:
    out = tmp_path / "runs"
    scenario = _scenario(tmp_path, server, prometheus)
    result = spikekit("run", str(scenario), "--out", str(out), "--workers", "1", timeout=120)
    said = result.stdout + result.stderr
    [run_dir] = [p for p in out.iterdir() if p.is_dir()]
    assert result.returncode == 3, said  # aborted by the stop condition
    assert "telemetry: Prometheus 2.42" in said and "3 PromQL queries each second" in said
    summary = json.loads((run_dir / SUMMARY).read_text())
    meta = json.loads((run_dir / META).read_text())
    reason = meta["abort_reason"]
    assert reason.startswith("stop condition: query on prometheus/stop_"), reason
    assert "above 8 for 2s" in reason, reason
    lasted = meta["ended_at"] - meta["started_at"]
    assert lasted < 25, f"the run went on for {lasted:.0f} s of its 30"
    # the series the condition read is in the run directory, past 8 at the end
    metrics = pd.read_parquet(run_dir / PLATFORM_METRICS)
    answered = metrics[(metrics.metric == "wagers_answered") & (metrics.service == "prometheus")]
    assert answered.value.max() > 8 and answered.sort_values("t").value.is_monotonic_increasing
    # both query SLOs judged and in the report's SLO table
    slos = {s["name"]: s for s in summary["slos"]}
    assert slos["wagers answered"]["metric"] == "query"
    assert slos["wagers answered"]["passed"] is True, slos["wagers answered"]
    assert slos["served per s"]["worst_value"] is not None, slos["served per s"]
    report = (run_dir / "report.html").read_text()
    assert "wagers answered" in report and "served per s" in report
