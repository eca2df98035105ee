"""``spikekit run`` with two gateways behind HAProxy, one of them SIGKILLed mid-run:
the health check takes it out, the report shows the failover time."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from spikekit.reference_platform.haproxy import find_haproxy
from tests.e2e.helpers import alive_after, spikekit
from tests.e2e.test_run import only_run_dir, stack_processes

KILL_AT_S = 15


def _scenario(path: Path) -> Path:
    scenario = {
        "name": "gateway-failover",
        "description": "Two gateways behind HAProxy; one is SIGKILLed and stays down for 15 s.",
        "target": {"profile": "resilient", "replicas": {"gateway": 2}},
        "population": {"accounts": 500},
        "load": {
            "model": "closed",
            "stages": [
                {"duration": "5s", "players": 20, "ramp": "linear"},
                {"duration": "35s", "players": 20},
            ],
        },
        "think_time": {"min": "200ms", "max": "800ms"},
        "slos": [{"name": "error rate", "metric": "error_rate", "threshold": 0.2}],
        "recovery": {"stable_s": 3},
        "faults": [
            {
                "type": "process.kill",
                "id": "kill-gateway-2",
                "at": f"{KILL_AT_S}s",
                "duration": "15s",
                "service": "gateway",
                "replica": 1,
                "signal": "SIGKILL",
                "restart": False,
            }
        ],
    }
    path.write_text(yaml.safe_dump(scenario))
    return path


def test_a_killed_gateway_replica_fails_over_and_the_summary_says_how_fast(
    tmp_path: Path,
) -> None:
    if find_haproxy() is None:
        pytest.fail("haproxy is not installed: run make install (make haproxy installs it)")
    scenario = _scenario(tmp_path / "failover.yaml")
    out = tmp_path / "runs"
    result = spikekit("run", str(scenario), "--out", str(out), timeout=400)
    assert out.is_dir(), result.stdout + result.stderr
    run_dir = only_run_dir(out)
    assert (run_dir / "summary.json").is_file(), result.stdout + result.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    (fault,) = summary["faults"]
    assert fault["fault"] == "process.kill" and fault["reverted_t"] is not None
    failover = fault["failover_s"]
    assert isinstance(failover, int) and 0 <= failover <= 10, fault
    print(f"failover_s = {failover}")
    assert "failover" in (run_dir / "report.html").read_text()

    metrics = pd.read_parquet(run_dir / "platform_metrics.parquet")
    up = metrics[(metrics["service"] == "haproxy") & (metrics["metric"] == "lb_server_up")]
    victim = up[up["labels"] == "backend=gateway,server=gateway-2"]
    assert not victim.empty
    assert victim[victim["t"] < KILL_AT_S]["value"].max() == 1.0
    down = victim[(victim["t"] >= KILL_AT_S) & (victim["t"] < KILL_AT_S + 15)]
    assert down["value"].min() == 0.0  # the health check took it out of rotation
    servers = metrics[(metrics["service"] == "haproxy") & (metrics["metric"] == "lb_servers_up")]
    assert servers["value"].min() == 1.0 and servers["value"].max() == 2.0
    assert alive_after(stack_processes(run_dir), 5) == []
