"""Faults of the toolkit itself during a real run: they end cleanly, never hang, and the
report says what happened (issue 20, item 7).

Each test drives ``spikekit run`` (real platform, real Locust processes), breaks one part
of the toolkit mid-run — a Locust worker, the Locust master, Toxiproxy, the run folder's
disk — and checks the exit code, the summary and that ``spikekit report`` reads what is
left. Runs are the ``smoke`` scenario at half its length (about 25 s of load).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from spikekit.processes import ProcessRef
from spikekit.reference_platform import state as state_file
from spikekit.scenarios.loader import builtin_dir
from tests.conftest import require_toxiproxy
from tests.e2e.helpers import alive_after, spikekit

SHORT = ("--duration-scale", "0.5", "--workers", "2")
RUN_TIMEOUT_S = 200.0


class Run:
    """``spikekit run`` in the background, with its output kept."""

    def __init__(self, argv: list[str], out: Path, logs: Path | None = None) -> None:
        self.out = out
        self.log = (logs or out.parent) / f"{out.name}.console"
        self._console = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spikekit", "run", *argv, "--out", str(out)],
            stdout=self._console,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )

    @property
    def run_dir(self) -> Path:
        runs = [p for p in self.out.iterdir() if p.is_dir()] if self.out.exists() else []
        assert len(runs) == 1, runs
        return runs[0]

    def journal(self) -> list[dict[str, Any]]:
        try:
            text = (self.run_dir / "journal.jsonl").read_text()
        except (AssertionError, OSError):
            return []
        return [json.loads(line) for line in text.splitlines() if line.endswith("}")]

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float = 150.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            assert self.process.poll() is None, f"the run ended before {what}:\n{self.output}"
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output}")

    def wait_for_t(self, seconds: float) -> None:
        def past() -> bool:
            started = [e for e in self.journal() if e["event"] == "run_started"]
            return bool(started) and time.time() - started[0]["ts"] >= seconds

        self.wait_for(f"t={seconds} s", past)

    def children(self, module: str) -> list[psutil.Process]:
        found = []
        for child in psutil.Process(self.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if module in child.cmdline():
                    found.append(child)
        return found

    def finish(self, timeout: float = RUN_TIMEOUT_S) -> int:
        """The exit code; fails (after killing it) when the run hangs."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"the run hung for {timeout:.0f} s:\n{self.output}") from None
        finally:
            self._console.close()

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def summary(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "summary.json").read_text()))


def stack_processes(run_dir: Path) -> list[ProcessRef]:
    state = state_file.load(run_dir / "platform")
    return [] if state is None else [p.ref() for p in state.processes()]


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.output, run.output


def assert_report_rebuilds(run_dir: Path, exit_code: int) -> dict[str, Any]:
    (run_dir / "report.html").unlink(missing_ok=True)
    again = spikekit("report", str(run_dir), timeout=120)
    assert again.returncode == exit_code, again.stdout + again.stderr
    assert (run_dir / "report.html").is_file()
    return dict(json.loads((run_dir / "summary.json").read_text()))


def test_a_killed_worker_is_a_hole_in_the_data_not_a_platform_failure(tmp_path: Path) -> None:
    run = Run(["smoke", *SHORT], tmp_path / "runs")
    run.wait_for_t(9.0)  # at 50 players, before the fault at 10 s
    workers = run.children("spikekit.load.worker")
    assert len(workers) == 2, workers
    victim = workers[1]
    victim.send_signal(signal.SIGKILL)
    code = run.finish()
    assert_no_traceback(run)
    summary = run.summary()
    assert code == summary["verdict"]["exit_code"] and code in (0, 1), run.output
    assert not summary["verdict"]["aborted"]  # the run went on
    [incident] = summary["toolkit_incidents"]
    assert incident["kind"] == "worker_lost" and incident["records_lost"], incident
    assert f"PID {victim.pid}" in incident["detail"] and "SIGKILL" in incident["detail"]
    assert not summary["verdict"]["conclusive"]
    assert any("toolkit fault" in r for r in summary["verdict"]["inconclusive_reasons"])
    assert "generator lost" in run.output  # said on the console when it happened
    assert "toolkit: " in run.output  # and again under the verdict
    # the dead worker's last players are not counted on top of the re-spread ones
    key = summary["key_numbers"]
    assert key["peak_actual_players"] <= key["peak_target_players"] == 50, key
    checks = {c["name"]: c for c in summary["audit"]["checks"]}
    assert checks["nothing_unrequested"]["status"] == "passed", checks
    assert summary["audit"]["status"] != "failed", checks
    if "unrequested_unattributable" in checks:  # the dead worker's unflushed acks
        assert checks["unrequested_unattributable"]["status"] == "inconclusive"
        assert summary["audit"]["status"] == "inconclusive"
    assert "nothing_unrequested" not in summary["verdict"]["paragraph"]
    again = assert_report_rebuilds(run.run_dir, code)
    assert again["toolkit_incidents"] == summary["toolkit_incidents"]
    assert again["verdict"] == summary["verdict"]


def test_a_killed_master_aborts_the_run_at_once_with_its_faults_reverted(
    tmp_path: Path,
) -> None:
    run = Run(["smoke", *SHORT], tmp_path / "runs")
    run.wait_for("the fault", lambda: any(e["event"] == "fault_injected" for e in run.journal()))
    workers = [ProcessRef(w.name(), w.pid, w.create_time()) for w in run.children("load.worker")]
    [master] = run.children("spikekit.load.master")
    master.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    code = run.finish()
    assert time.monotonic() - killed_at < 90, "the run took too long to notice"
    assert code == 3, run.output
    assert_no_traceback(run)
    assert alive_after(workers, 1) == []
    assert alive_after(stack_processes(run.run_dir), 10) == []
    events = run.journal()
    assert [e["ok"] for e in events if e["event"] == "fault_reverted"] == [True]
    summary = run.summary()
    assert summary["verdict"]["aborted"] and summary["verdict"]["exit_code"] == 3
    assert "Locust master" in summary["run"]["abort_reason"], summary["run"]
    assert "SIGKILL" in summary["run"]["abort_reason"]
    assert [i["kind"] for i in summary["toolkit_incidents"]] == ["master_lost"]
    assert summary["run"]["duration_s"] > 5  # rebuilt from load/live.jsonl
    assert summary["faults_not_reverted"] == []
    assert summary["audit"]["status"] != "failed", summary["audit"]
    again = assert_report_rebuilds(run.run_dir, 3)
    assert again["verdict"] == summary["verdict"]


def _network_scenario(path: Path) -> Path:
    """smoke's load with a latency toxic on a link of the bundled platform instead."""
    scenario = yaml.safe_load((builtin_dir() / "smoke.yaml").read_text())
    scenario["name"] = "smoke-network"
    scenario["faults"] = [
        {
            "type": "network.latency",
            "id": "slow-redis",
            "at": "5s",
            "duration": "40s",
            "link": "gateway-redis",
            "latency_ms": 100,
        }
    ]
    scenario["stop_conditions"] = []
    path.write_text(yaml.safe_dump(scenario))
    return path


def test_toxiproxy_killed_under_a_network_fault_aborts_and_names_the_fault(
    tmp_path: Path,
) -> None:
    require_toxiproxy()
    scenario = _network_scenario(tmp_path / "smoke-network.yaml")
    run = Run([str(scenario), *SHORT], tmp_path / "runs")
    run.wait_for("the toxic", lambda: any(e["event"] == "fault_injected" for e in run.journal()))
    state = state_file.load(run.run_dir / "platform")
    assert state is not None and state.toxiproxy is not None
    os.kill(state.toxiproxy.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    code = run.finish()
    assert time.monotonic() - killed_at < 90, "the run took too long to end"
    assert code == 3, run.output
    assert_no_traceback(run)
    assert alive_after(stack_processes(run.run_dir), 10) == []
    summary = run.summary()
    assert summary["verdict"]["aborted"] and "Toxiproxy" in summary["run"]["abort_reason"]
    assert [i["kind"] for i in summary["toolkit_incidents"]] == ["toxiproxy_lost"]
    [still_on] = summary["faults_not_reverted"]
    assert still_on["fault_id"] == "slow-redis"
    assert "died with it" in still_on["reason"]
    assert still_on["revert_by_hand"] == f"spikekit chaos revert --all {run.run_dir}"
    [fault] = summary["faults"]
    assert fault["outcome"] == "not reverted" and fault["revert_error"], fault
    assert "revert it by hand" in run.output and "Toxiproxy" in run.output
    # by hand, as the report says: the bundled platform is gone, its toxics with it
    revert = spikekit("chaos", "revert", "--all", str(run.run_dir))
    assert revert.returncode == 0, revert.stdout + revert.stderr
    again = assert_report_rebuilds(run.run_dir, 3)
    assert again["faults_not_reverted"] == []  # reverted since, from the journal


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 320 MiB tmpfs of our own (we run as root in CI), unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=320m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert mounted.returncode == 0, f"cannot mount a tmpfs (root needed): {mounted.stderr}"
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it."""
    filler = disk / "filler"
    chunk = bytes(1 << 20)
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_aborts_the_run_cleanly_and_leaves_it_readable(
    small_disk: Path, tmp_path: Path
) -> None:
    run = Run(["smoke", *SHORT], small_disk / "runs", logs=tmp_path)  # console off the disk
    run.wait_for("the fault", lambda: any(e["event"] == "fault_injected" for e in run.journal()))
    filler = _fill(small_disk)
    filled_at = time.monotonic()
    code = run.finish()
    assert time.monotonic() - filled_at < 120, "the run took too long to end"
    assert code == 3, run.output
    assert_no_traceback(run)
    assert "disk is full" in run.output, run.output
    run_dir = run.run_dir
    assert alive_after(stack_processes(run_dir), 10) == []
    # the fault was reverted on the way out (the platform stopped with it in any case)
    filler.unlink()
    events = run.journal()
    incidents = [e for e in events if e["event"] == "toolkit_incident"]
    assert incidents and incidents[0]["kind"] == "disk_full", events
    report = spikekit("report", str(run_dir), timeout=120)
    assert report.returncode == 3, report.stdout + report.stderr
    assert "Traceback" not in report.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"]["aborted"] and summary["verdict"]["exit_code"] == 3
    assert "disk is full" in summary["run"]["abort_reason"], summary["run"]
    assert summary["toolkit_incidents"][0]["kind"] == "disk_full"
    assert summary["run"]["duration_s"] > 5
