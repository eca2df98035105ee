"""``spikekit run`` as CI runs it: real platform, real Locust, real faults, real outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil
import yaml

from spikekit.processes import ProcessRef
from spikekit.reference_platform import state as state_file
from spikekit.toxiproxy.client import ToxiproxyClient
from tests.conftest import require_toxiproxy
from tests.e2e.helpers import alive_after, spikekit

OUTPUTS = (
    "meta.json",
    "scenario.yaml",
    "journal.jsonl",
    "timeseries.parquet",
    "players.parquet",
    "histograms.json",
    "platform_metrics.parquet",
    "acked_transactions.jsonl",
    "ledger_export.parquet",
    "payments_export.parquet",
    "audit.json",
    "report.html",
    "summary.json",
    "junit.xml",
)


def only_run_dir(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def stack_processes(run_dir: Path) -> list[ProcessRef]:
    state = state_file.load(run_dir / "platform")
    assert state is not None
    return [p.ref() for p in state.processes()]


def test_smoke_passes_with_a_clean_audit_and_report_rebuilds_it(tmp_path: Path) -> None:
    result = spikekit("run", "smoke", "--out", str(tmp_path), timeout=400)
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(tmp_path)
    for name in OUTPUTS:
        assert (run_dir / name).is_file(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"]["verdict"] in ("PASSED", "DEGRADED")
    assert summary["audit"]["status"] == "passed"
    # the business SLIs, from the platform's telemetry, the timeseries and the audit
    keys = summary["key_numbers"]
    assert 0 < keys["deposit_completion_p95_ms"] < 30_000, keys
    assert keys["withdrawal_completion_p95_ms"] is None or keys["withdrawal_completion_p95_ms"] > 0
    assert 0.9 <= keys["launch_success_rate"] <= 1.0, keys
    assert 0 <= keys["round_rollback_rate"] < 0.05, keys
    assert keys["unsettled_rounds"] == 0
    slos = {slo["metric"]: slo for slo in summary["slos"]}
    assert slos["unsettled_rounds"]["at_end"] and slos["unsettled_rounds"]["worst_value"] == 0
    assert slos["deposit_completion_p95"]["worst_value"] is not None
    assert slos["launch_success_rate"]["passed"]
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "completed"
    assert meta["machine_fit"]["fit"] == "fits"  # the capacity check at the start
    assert "machine: smoke peaks at 50 players" in " ".join(result.stdout.split())
    suite = ET.parse(run_dir / "junit.xml").getroot()
    assert int(suite.get("failures", "1")) == 0
    journal = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]
    events = [e["event"] for e in journal]
    assert events.count("fault_injected") == events.count("fault_reverted") == 1
    assert alive_after(stack_processes(run_dir), 5) == []

    # the capacity plan, written at the start (the bundled platform has measured costs),
    # measured against the run's one held step, and the same after the rebuild
    assert (run_dir / "capacity_plan.json").is_file()
    capacity = summary["capacity"]
    assert capacity["available"] and len(capacity["steps"]) == 1, capacity
    step = capacity["steps"][0]
    assert step["players"] == 50 and step["measured_rps"] > 0 and step["predicted_rps"] > 0
    measured = {p["part"]: p["measured_cores"] for p in step["parts"]}
    assert measured["wallet"] is not None and measured["wallet"] > 0, measured
    section = _capacity_section((run_dir / "report.html").read_text())
    assert "Capacity: measured vs predicted" in section and "<svg" in section
    (run_dir / "report.html").unlink()
    rebuilt = spikekit("report", str(run_dir), timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert (run_dir / "report.html").is_file()
    again = json.loads((run_dir / "summary.json").read_text())
    assert again["verdict"] == summary["verdict"]
    assert again["capacity"] == summary["capacity"]
    assert _capacity_section((run_dir / "report.html").read_text()) == section


def _capacity_section(html: str) -> str:
    start = html.index('<h2 id="capacity">')
    return html[start : html.index("<h2>", start + 1)]


def _scenario_against(url: str, path: Path) -> Path:
    """A short closed-model run against a running platform, with a latency toxic at 4 s."""
    scenario = {
        "name": "sigkill-target",
        "description": "A short run against a platform of our own, killed mid-fault.",
        "target": {"url": url},
        "population": {"accounts": 2000},
        "load": {
            "model": "closed",
            "start_players": 5,
            "stages": [{"duration": "60s", "players": 10}],
        },
        "think_time": {"min": "1s", "max": "2s"},
        "slos": [{"name": "error rate", "metric": "error_rate", "threshold": 0.5}],
        "faults": [
            {
                "type": "network.latency",
                "id": "slow-redis",
                "at": "3s",
                "duration": "50s",
                "link": "gateway-redis",
                "latency_ms": 250,
            }
        ],
    }
    path.write_text(yaml.safe_dump(scenario))
    return path


def test_a_sigkilled_run_leaves_no_process_and_revert_all_takes_its_fault_off(
    tmp_path: Path,
) -> None:
    require_toxiproxy()
    platform_dir = tmp_path / "platform"
    up = spikekit(
        "platform", "up", "--detach", "--players", "2000", "--state-dir", str(platform_dir)
    )
    assert up.returncode == 0, up.stderr
    try:
        status = json.loads(
            spikekit("platform", "status", "--json", "--state-dir", str(platform_dir)).stdout
        )
        gateway = next(s["url"] for s in status["services"] if s["service"] == "gateway")
        api = status["toxiproxy_api"]
        scenario = _scenario_against(gateway, tmp_path / "scenario.yaml")
        out = tmp_path / "runs"
        argv = ["run", str(scenario), "--out", str(out), "--toxiproxy", api]
        run = subprocess.Popen(
            [sys.executable, "-m", "spikekit", *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90
        journal: Path | None = None
        while time.monotonic() < deadline:
            runs = list(out.glob("*/journal.jsonl")) if out.exists() else []
            if runs and "fault_injected" in runs[0].read_text():
                journal = runs[0]
                break
            time.sleep(0.2)
        assert journal is not None, "the fault was never injected"
        children = [
            ProcessRef(c.name(), c.pid, c.create_time())
            for c in psutil.Process(run.pid).children(recursive=True)
        ]
        assert children, "the run had no load processes"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        assert alive_after(children, 5) == []
        with ToxiproxyClient(api) as client:
            assert [t.name for t in client.list_toxics("gateway-redis")], "the toxic stayed on"
            revert = spikekit("chaos", "revert", "--all", str(journal.parent))
            assert revert.returncode == 0, revert.stdout + revert.stderr
            assert client.list_toxics("gateway-redis") == []
        again = spikekit("chaos", "revert", "--all", str(journal.parent))
        assert again.returncode == 0 and "nothing to revert" in again.stdout
        run_dir = journal.parent
        report = spikekit("report", str(run_dir), timeout=120)
        assert report.returncode == 3, report.stdout + report.stderr
        assert "salvaged" in report.stderr, report.stderr  # rebuilt from load/live.jsonl
        assert (run_dir / "report.html").is_file()
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["verdict"]["aborted"] and summary["verdict"]["exit_code"] == 3
        assert summary["run"]["status"] == "aborted"
        assert "killed?" in summary["run"]["abort_reason"]
        assert summary["run"]["duration_s"] > 0  # a timeline: seconds of data, not none
        [fault] = summary["faults"]
        assert fault["fault_id"] == "slow-redis" and fault["outcome"] == "not reverted"
    finally:
        spikekit("platform", "down", "--state-dir", str(platform_dir))


def test_a_short_provider_meltdown_is_judged_fault_by_fault(tmp_path: Path) -> None:
    require_toxiproxy()  # its third fault slows a link through Toxiproxy
    args = ["--scale", "0.0005", "--duration-scale", "0.045", "--out", str(tmp_path)]
    result = spikekit("run", "provider-meltdown", *args, timeout=600)
    run_dir = only_run_dir(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    verdict = summary["verdict"]
    assert result.returncode == verdict["exit_code"], result.stdout + result.stderr
    assert result.returncode in (0, 1)
    assert (verdict["verdict"] == "FAILED") == (result.returncode == 1)
    assert verdict["verdict"] in result.stdout
    faults = {f["fault_id"]: f for f in summary["faults"]}
    assert set(faults) == {"provider-slow", "provider-down", "wallet-link-slow", "provider-lost"}
    for fault in faults.values():
        assert fault["injected_t"] is not None and fault["reverted_t"] is not None
        assert fault["outcome"] in ("recovered", "not recovered", "no impact", "mitigated")
    cases = {c.get("name") for c in ET.parse(run_dir / "junit.xml").getroot().iter("testcase")}
    assert any("provider-down" in (name or "") for name in cases)
    assert summary["audit"]["status"] == "passed", summary["audit"]
    same = spikekit("compare", str(run_dir), str(run_dir), "--out", str(tmp_path / "c.html"))
    assert same.returncode == 0, same.stdout + same.stderr
    assert (tmp_path / "c.html").is_file()
