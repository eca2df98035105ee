"""HAProxy in front of real gateway replicas: spread, health-checked failover, statistics."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest

from spikekit.reference_platform.haproxy import find_haproxy
from spikekit.reference_platform.spec import ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.supervisor import Stack
from spikekit.telemetry.prometheus import parse

GATEWAY = ServiceSpec(
    name="gateway",
    app="spikekit.reference_platform.gateway.app:create_app",
    needs=("postgres", "redis"),
)
# Answered by the gateway itself (no token: 401, no dependency called), measured per route:
# a 401 is a live replica's answer, a 5xx would be HAProxy's (no server) or a dead one's.
ROUTE = "/api/me"
ANSWERED = 401


def _requests_served(url: str) -> float:
    """The replica's own count of requests on ROUTE, from its /metrics."""
    snapshot = parse(httpx.get(f"{url}/metrics", timeout=5).text)
    return sum(
        h.count
        for (name, key), h in snapshot.histograms.items()
        if name == "http_request_duration_seconds" and ("route", ROUTE) in key
    )


def _server_state(stats_url: str, server: str) -> str | None:
    snapshot = parse(httpx.get(f"{stats_url}/metrics", timeout=5).text)
    for (name, key), value in snapshot.gauges.items():
        labels = dict(key)
        if name == "haproxy_server_status" and labels.get("server") == server and value == 1:
            return labels["state"]
    return None


def _active_servers(stats_url: str) -> float:
    snapshot = parse(httpx.get(f"{stats_url}/metrics", timeout=5).text)
    return next(
        v for (name, _), v in snapshot.gauges.items() if name == "haproxy_backend_active_servers"
    )


def _ours(tmp_path: Path) -> list[int]:
    return [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]


@pytest.fixture
def haproxy() -> None:
    if find_haproxy() is None:
        pytest.fail("haproxy is not installed: run make install (make haproxy installs it)")


@pytest.mark.usefixtures("haproxy")
def test_three_gateways_behind_haproxy_spread_and_fail_over(tmp_path: Path) -> None:
    spec = StackSpec(services=(GATEWAY,), toxiproxy=ToxiproxyMode.OFF).with_replicas(gateway=3)
    with Stack(spec, tmp_path / "stack") as stack:
        state = stack.state
        assert state is not None and state.balancer is not None
        assert stack.player_url == state.balancer.url != state.services[0].url
        config = Path(state.balancer.config).read_text()
        assert "option httpchk GET /health" in config
        assert config.count("check inter 1000ms fall 2 rise 2") == 3
        replicas = {s.name: s for s in state.services}
        assert sorted(replicas) == ["gateway-1", "gateway-2", "gateway-3"]

        with httpx.Client(base_url=stack.player_url, timeout=5) as players:
            before = {n: _requests_served(s.url) for n, s in replicas.items()}
            for _ in range(60):
                assert players.get(ROUTE).status_code == ANSWERED
            spread = {n: _requests_served(s.url) - before[n] for n, s in replicas.items()}
            assert sum(spread.values()) == 60
            assert all(count >= 15 for count in spread.values()), spread  # round robin: 20 each

            victim = replicas["gateway-2"]
            killed_at = time.monotonic()
            victim.ref().process().send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            failures, answered, down_after = 0, 0, None
            while time.monotonic() - killed_at < 6:
                try:
                    ok = players.get(ROUTE).status_code == ANSWERED
                except httpx.HTTPError:
                    ok = False
                failures += not ok
                answered += ok
                if down_after is None and _server_state(state.balancer.stats_url, "gateway-2") == (
                    "DOWN"
                ):
                    down_after = time.monotonic() - killed_at
                time.sleep(0.02)
            assert down_after is not None and down_after <= 3.5, down_after
            print(f"gateway-2 out of rotation {down_after:.2f} s after SIGKILL, {failures} errors")
            assert _active_servers(state.balancer.stats_url) == 2
            # a refused connection is retried on another replica: players see no error
            assert failures == 0 and answered > 50, (failures, answered)
            survivors = {
                n: _requests_served(s.url) for n, s in replicas.items() if n != victim.name
            }
            for _ in range(40):
                assert players.get(ROUTE).status_code == ANSWERED
            after = {n: _requests_served(replicas[n].url) - c for n, c in survivors.items()}
            assert sum(after.values()) == 40 and min(after.values()) >= 15, after
        refs = [p.ref() for p in state.processes()]
    assert not [ref for ref in refs if ref.is_alive()]
    assert _ours(tmp_path) == []


@pytest.mark.usefixtures("haproxy")
def test_a_single_gateway_has_no_balancer_unless_asked(tmp_path: Path) -> None:
    from spikekit.reference_platform.spec import BalancerMode

    spec = StackSpec(services=(GATEWAY,), toxiproxy=ToxiproxyMode.OFF)
    assert not spec.balanced
    assert spec.with_options(balancer=BalancerMode.ON).balanced
    with Stack(spec.with_options(balancer=BalancerMode.ON), tmp_path / "stack") as stack:
        assert stack.balancer is not None
        assert httpx.get(f"{stack.player_url}{ROUTE}", timeout=5).status_code == ANSWERED
    assert _ours(tmp_path) == []
