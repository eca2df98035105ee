"""HAProxy as a part of the stack an operator can see: its death noticed, logged and
journalled, a kill fault on it reverted, its servers in ``platform status``, and its
statistics recorded without the series nobody reads. Real HAProxy, real gateways."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault
from spikekit.cli.platform import app as platform_app
from spikekit.reference_platform import control
from spikekit.reference_platform.control_api import StackControl
from spikekit.reference_platform.haproxy import find_haproxy, read_servers
from spikekit.reference_platform.spec import ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.supervisor import ProcessEvent, Stack
from spikekit.scenarios.faults import ProcessKill
from spikekit.scenarios.faults.processes import Balancer
from spikekit.telemetry.prometheus import parse, per_second
from spikekit.telemetry.recorder import PlatformRecorder, ScrapeTarget

GATEWAY = ServiceSpec(
    name="gateway",
    app="spikekit.reference_platform.gateway.app:create_app",
    needs=("postgres", "redis"),
)
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if find_haproxy() is None:
        pytest.fail("haproxy is not installed: run make install (make haproxy installs it)")
    spec = StackSpec(services=(GATEWAY,), toxiproxy=ToxiproxyMode.OFF).with_replicas(gateway=2)
    with Stack(spec, tmp_path_factory.mktemp("ops") / "stack") as running:
        yield running


def _servers_up(stack: Stack, timeout: float = 10.0) -> None:
    assert stack.balancer is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = read_servers(stack.balancer.stats_url) or []
        checked = [r for r in rows if not r.backup and r.server != "BACKEND"]
        if len(checked) == 2 and all(r.check == "L7OK" and r.up for r in checked):
            return
        time.sleep(0.1)
    raise AssertionError(f"the gateways did not pass HAProxy's checks: {rows}")


def test_platform_status_shows_haproxy_and_each_server_up_or_down(stack: Stack) -> None:
    _servers_up(stack)
    assert stack.balancer is not None and stack.balancer.process is not None
    result = CliRunner().invoke(
        platform_app, ["status", "--json", "--state-dir", str(stack.state_dir)]
    )
    assert result.exit_code == 0, result.output
    balancer = json.loads(result.output)["balancer"]
    assert balancer["pid"] == stack.balancer.process.pid
    assert balancer["port"] == stack.balancer.config.port
    assert balancer["health"] == "ok"
    checked = {s["server"]: s for s in balancer["servers"] if not s["backup"]}
    assert sorted(checked) == ["gateway-1", "gateway-2"]
    assert all(s["up"] and s["status"] == "UP" and s["check"] == "L7OK" for s in checked.values())
    backups = [s for s in balancer["servers"] if s["backup"]]
    assert len(backups) == 2 and all(s["status"] == "no check" for s in backups)

    table = CliRunner().invoke(platform_app, ["status", "--state-dir", str(stack.state_dir)])
    assert table.exit_code == 0, table.output
    assert "haproxy" in table.output and "backend servers" in table.output
    assert re.search(r"^gateway-1\s+up\s+UP\s+L7OK\s", table.output, re.M), table.output


def test_haproxy_statistics_keep_only_the_series_that_matter(stack: Stack, tmp_path: Path) -> None:
    assert stack.balancer is not None
    url = stack.balancer.stats_url
    first = parse(httpx.get(f"{url}/metrics", timeout=5).text)
    time.sleep(1)
    raw = list(per_second(first, parse(httpx.get(f"{url}/metrics", timeout=5).text), 1.0))
    with PlatformRecorder(tmp_path, [ScrapeTarget("haproxy", url)]) as recorder:
        while recorder.seconds_recorded < 4:
            time.sleep(0.1)
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "platform_metrics.parquet").to_pylist()
    seconds = max(r["t"] for r in table) + 1
    aliases = [r for r in table if r["metric"].startswith("lb_") or r["metric"] == "up"]
    kept = [r for r in table if r not in aliases]
    per_s = len(kept) / seconds
    print(f"haproxy raw rows/s: {len(raw)} exported, {per_s:.0f} recorded; aliases {len(aliases)}")
    assert len(raw) > 250  # what was recorded before: every series of the exporter
    assert per_s <= 40, sorted({r["metric"] for r in kept})
    metrics = {r["metric"] for r in kept}
    assert {
        "haproxy_server_status",
        "haproxy_server_check_status",
        "haproxy_server_current_sessions",
        "haproxy_backend_current_queue",
        "haproxy_backend_retry_warnings_per_s",
        "haproxy_backend_redispatch_warnings_per_s",
        "haproxy_server_http_responses_per_s",
    } <= metrics
    last = max(r["t"] for r in table)
    states = [r for r in kept if r["metric"] == "haproxy_server_status" and r["t"] == last]
    assert len(states) == 4 and all(r["value"] == 1 for r in states)  # one row per server
    assert any("state=UP" in r["labels"] for r in states)
    up = [r for r in aliases if r["metric"] == "lb_server_up" and r["t"] == last]
    assert sorted(r["value"] for r in up) == [1.0, 1.0]  # the aliases see every row


def test_a_killed_haproxy_is_noticed_logged_and_started_again_by_the_fault(
    stack: Stack,
) -> None:
    assert stack.balancer is not None and stack.balancer.process is not None
    before = stack.balancer.process.pid
    assert stack.watch() == []
    seen: list[ProcessEvent] = []
    during: dict[str, object] = {}

    def chaos() -> None:  # the chaos engine's thread; the supervisor's loop is this one
        spec = ProcessKill(type="process.kill", at=0, service=Balancer.HAPROXY, restart=False)
        fault = build_fault(spec, ChaosContext.for_platform(stack.state_dir), fault_id="lb")
        with fault:
            deadline = time.monotonic() + 5
            while not any(e.kind == "exited" for e in seen) and time.monotonic() < deadline:
                time.sleep(0.05)
            try:
                httpx.get(f"{stack.player_url}/api/me", timeout=2)
            except httpx.HTTPError as error:
                during["players"] = type(error).__name__
            during["status"] = control.status(stack.state_dir).balancer

    worker = threading.Thread(target=chaos, name="ops-chaos", daemon=True)
    worker.start()
    control_channel = StackControl(stack)  # starts children from this (long-lived) thread
    deadline = time.monotonic() + 30
    while (worker.is_alive() or not seen) and time.monotonic() < deadline:
        control_channel.handle_pending()
        seen.extend(stack.watch())
        time.sleep(0.05)
    seen.extend(stack.watch())
    assert during.get("players") == "ConnectError", during
    down = during["status"]
    assert isinstance(down, control.BalancerStatus)
    assert not down.alive and down.health == "down"
    exited = next(e for e in seen if e.kind == "exited")
    assert (exited.name, exited.pid, exited.exit_code) == ("haproxy", before, -9)
    assert exited.detail == f"haproxy (PID {before}) killed by SIGKILL"
    restarted = next(e for e in seen if e.kind == "restarted")
    assert restarted.previous_pid == before != restarted.pid == stack.balancer.process.pid
    assert httpx.get(f"{stack.player_url}/api/me", timeout=5).status_code == 401
    log = (stack.state_dir / "logs" / "supervisor.log").read_text()
    assert re.search(
        rf"^{STAMP} supervisor/0 ERROR process_exited process=haproxy pid={before} "
        r"exit_code=-9 how=\"killed by SIGKILL\"$",
        log,
        re.M,
    ), log
    assert re.search(rf"^{STAMP} supervisor/0 WARNING process_restarted process=haproxy", log, re.M)
    state = control.running_state(stack.state_dir)
    assert state is not None and state.balancer is not None
    assert state.balancer.pid == stack.balancer.process.pid  # stack.json has the new PID
