"""``spikekit platform`` as a user runs it: a real detached stack, status, down, and SIGKILL."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
import psutil

from spikekit.processes import ProcessRef
from spikekit.reference_platform import state as state_file
from tests.conftest import require_toxiproxy
from tests.e2e.helpers import alive_after, spikekit


def _every_process(state_dir: Path) -> list[ProcessRef]:
    """Every process of the stack: the recorded ones and all descendants of the supervisor."""
    state = state_file.load(state_dir)
    assert state is not None
    refs = [state.supervisor.ref(), *(p.ref() for p in state.processes())]
    supervisor = psutil.Process(state.supervisor.pid)
    refs += [
        ProcessRef(child.name(), child.pid, child.create_time())
        for child in supervisor.children(recursive=True)
    ]
    return refs


def test_up_detach_status_json_down_leaves_nothing_behind(tmp_path: Path) -> None:
    require_toxiproxy()
    state_dir = tmp_path / "platform"
    up = spikekit("platform", "up", "--detach", "--state-dir", str(state_dir))
    assert up.returncode == 0, up.stderr
    refs = _every_process(state_dir)
    names = {ref.name for ref in refs}
    assert {"postgres", "redis-server", "toxiproxy-server"} <= names | {"redis", "toxiproxy"}
    try:
        status = spikekit("platform", "status", "--json", "--state-dir", str(state_dir))
        assert status.returncode == 0, status.stderr
        body = json.loads(status.stdout)
        assert body["running"] is True
        for service in body["services"]:
            assert service["url"].startswith("http://127.0.0.1:")
            assert service["health"] == "ok"
            assert httpx.get(service["url"] + "/health", timeout=5).status_code == 200
        kinds = {b["kind"]: b for b in body["backing"]}
        assert kinds["postgres"]["address"].startswith("postgresql://postgres@127.0.0.1:")
        assert kinds["redis"]["address"].startswith("redis://127.0.0.1:")
        assert body["toxiproxy_api"].startswith("http://127.0.0.1:")
    finally:
        down = spikekit("platform", "down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stderr
    assert "stopped" in down.stdout
    assert alive_after(refs, 5) == []
    after = spikekit("platform", "status", "--json", "--state-dir", str(state_dir))
    assert after.returncode == 1 and json.loads(after.stdout)["running"] is False


def test_sigkilled_supervisor_takes_every_child_with_it_within_5_s(tmp_path: Path) -> None:
    state_dir = tmp_path / "platform"
    up = spikekit("platform", "up", "--detach", "--state-dir", str(state_dir))
    assert up.returncode == 0, up.stderr
    refs = _every_process(state_dir)
    assert len(refs) >= 5  # supervisor, gateway, postgres (+ its backends), redis
    state = state_file.load(state_dir)
    assert state is not None
    os.kill(state.supervisor.pid, signal.SIGKILL)
    survivors = alive_after(refs, 5)
    for ref in survivors:  # never leave them running, even when the assertion fails
        os.kill(ref.pid, signal.SIGKILL)
    assert survivors == []


def test_down_without_a_platform_says_so(tmp_path: Path) -> None:
    result = spikekit("platform", "down", "--state-dir", str(tmp_path))
    assert result.returncode == 0
    assert "no platform is running" in result.stdout
