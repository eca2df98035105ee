"""The scheduler on the real clock, Ctrl-C during a run, and the revert after a crash."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault
from spikekit.chaos.run import ChaosRun
from spikekit.chaos.schedule import MonotonicClock, ScheduledFault, Scheduler
from spikekit.cli import chaos as chaos_cli
from spikekit.reference_platform.state import StackState
from spikekit.rundir.journal import FaultInjected, FaultReverted, Journal, read_journal
from spikekit.scenarios.faults import NetworkLatency
from spikekit.toxiproxy.client import ToxiproxyClient

LINKS = ["gateway-postgres", "gateway-postgres", "gateway-redis"]
REPO = Path(__file__).resolve().parents[3]


def _toxics(api: str) -> dict[str, list[str]]:
    with ToxiproxyClient(api) as client:
        return {n: [t.name for t in p.toxics] for n, p in client.list_proxies().items() if p.toxics}


def test_faults_start_on_time_overlap_and_are_all_reverted(
    ctx: ChaosContext, tmp_path: Path
) -> None:
    offsets = [0.2, 0.35, 0.5]
    entries = []
    for index, (offset, name) in enumerate(zip(offsets, LINKS, strict=True)):
        spec = NetworkLatency(type="network.latency", at=offset, link=name, latency_ms=10)
        fault = build_fault(spec, ctx, fault_id=f"on-time-{index}", duration_s=0.3)
        entries.append(ScheduledFault(fault, offset, 0.3))
    with Journal(tmp_path / "journal.jsonl") as journal:
        scheduler = Scheduler(entries, clock=MonotonicClock(journal.started), sinks=[journal])
        with ChaosRun(scheduler) as run:
            assert run.wait(10)
    runs = list(scheduler.runs.values())
    lags = [r.lag_s for r in runs]
    revert_lags = [(r.reverted_t or 0) - (r.planned_end_t or 0) for r in runs]
    print(f"\ninject lag ms: {[f'{lag * 1000:.1f}' for lag in lags if lag is not None]}")
    print(f"revert lag ms: {[f'{lag * 1000:.1f}' for lag in revert_lags]}")
    assert all(lag is not None and 0 <= lag < 0.25 for lag in lags)
    assert all(r.error is None and r.reverted_t is not None for r in runs)
    assert runs[0].reverted_t is not None and runs[1].injected_t is not None
    assert runs[1].injected_t < runs[0].reverted_t, "faults 0 and 1 should overlap"
    events = read_journal(tmp_path / "journal.jsonl")
    assert len([e for e in events if isinstance(e, FaultInjected)]) == 3
    assert len([e for e in events if isinstance(e, FaultReverted) and e.ok]) == 3
    assert ctx.toxiproxy_url is not None and _toxics(ctx.toxiproxy_url) == {}


def _start_child(api: str, journal: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "tests.integration.chaos.chaos_child", api, str(journal)]
    return subprocess.Popen([*argv, *LINKS], cwd=REPO, stderr=subprocess.PIPE)


def _wait_injected(journal: Path, child: subprocess.Popen[bytes], count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if journal.exists():
            injected = [e for e in read_journal(journal) if isinstance(e, FaultInjected)]
            if len(injected) >= count:
                return
        if child.poll() is not None:
            _, err = child.communicate()
            pytest.fail(f"the chaos child exited early: {err.decode()[-2000:]}")
        time.sleep(0.05)
    pytest.fail("the chaos child did not inject its faults in 30 s")


def test_ctrl_c_reverts_three_active_faults_within_two_seconds(
    state: StackState, tmp_path: Path
) -> None:
    assert state.toxiproxy_api is not None
    journal = tmp_path / "journal.jsonl"
    child = _start_child(state.toxiproxy_api, journal)
    try:
        _wait_injected(journal, child, 3)
        assert sum(len(t) for t in _toxics(state.toxiproxy_api).values()) == 3
        interrupted = time.monotonic()
        child.send_signal(signal.SIGINT)
        child.wait(10)
        took = time.monotonic() - interrupted
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    print(f"\nSIGINT → all reverted and exited in {took * 1000:.0f} ms")
    assert took < 2.0
    reverted = [e for e in read_journal(journal) if isinstance(e, FaultReverted)]
    assert sorted(e.fault_id for e in reverted if e.ok) == ["slow-0", "slow-1", "slow-2"]
    assert _toxics(state.toxiproxy_api) == {}


def test_after_a_crash_revert_all_removes_every_toxic(state: StackState, tmp_path: Path) -> None:
    assert state.toxiproxy_api is not None
    journal = tmp_path / "journal.jsonl"
    child = _start_child(state.toxiproxy_api, journal)
    try:
        _wait_injected(journal, child, 3)
    finally:
        child.kill()  # SIGKILL: no finally, no handler runs in the child
        child.communicate()
    assert sum(len(t) for t in _toxics(state.toxiproxy_api).values()) == 3

    result = CliRunner().invoke(chaos_cli.app, ["revert", "--all", str(journal)])
    assert result.exit_code == 0, result.output
    assert _toxics(state.toxiproxy_api) == {}
    reverted = [e for e in read_journal(journal) if isinstance(e, FaultReverted)]
    assert {e.fault_id for e in reverted} == {"slow-0", "slow-1", "slow-2"}
    assert all(e.ok and e.source == "journal" for e in reverted)
    again = CliRunner().invoke(chaos_cli.app, ["revert", "--all", str(journal)])
    assert again.exit_code == 0 and "nothing to revert" in again.output


def test_cli_inject_runs_for_its_duration_then_reverts(state: StackState) -> None:
    assert state.toxiproxy_api is not None
    base = ["chaos", "inject", "network.latency", "--state-dir", state.state_dir]
    args = [*base, "--target", "gateway-postgres", "--param", "latency_ms=50", "--duration", "0.5s"]
    started = time.monotonic()
    result = CliRunner().invoke(chaos_cli.app, args[1:])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.5
    assert "reverted" in result.output and _toxics(state.toxiproxy_api) == {}
    journal = Path(state.state_dir) / "chaos" / "journal.jsonl"
    kinds = [e.event for e in read_journal(journal)][-4:]
    assert kinds == ["fault_planned", "fault_injected", "fault_reverted", "run_ended"]
    unknown = [*base, "--target", "gateway-nowhere", "--param", "latency_ms=5"]
    assert CliRunner().invoke(chaos_cli.app, unknown[1:]).exit_code != 0
