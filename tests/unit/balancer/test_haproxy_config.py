"""The HAProxy configuration the supervisor writes, and when a stack has one."""

from __future__ import annotations

import pytest

from spikekit.reference_platform.haproxy import BalancerConfig, Upstream
from spikekit.reference_platform.spec import BalancerMode, default_stack

CONFIG = BalancerConfig(
    backend="gateway",
    upstreams=(Upstream("gateway-1", 9001), Upstream("gateway-2", 9002)),
    port=8080,
    stats_port=8404,
)


def _block(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(header)
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    return block


def test_every_replica_is_health_checked_each_second_behind_a_loopback_frontend() -> None:
    text = CONFIG.render()
    assert _block(text, "frontend players") == [
        "bind 127.0.0.1:8080",
        "default_backend gateway",
    ]
    backend = _block(text, "backend gateway")
    assert "option httpchk GET /health" in backend
    assert "http-check expect status 200" in backend
    assert "balance roundrobin" in backend
    assert "server gateway-1 127.0.0.1:9001 check inter 1000ms fall 2 rise 2" in backend
    assert "server gateway-2 127.0.0.1:9002 check inter 1000ms fall 2 rise 2" in backend


def test_unchecked_backups_keep_players_served_when_every_replica_is_unready() -> None:
    backend = _block(CONFIG.render(), "backend gateway")
    assert "option allbackups" in backend
    assert "server gateway-1-failopen 127.0.0.1:9001 backup" in backend
    assert not [line for line in backend if "backup" in line and " check" in line]


def test_a_refused_connection_is_retried_on_another_replica() -> None:
    defaults = _block(CONFIG.render(), "defaults")
    assert "option redispatch 1" in defaults and "retries 2" in defaults


def test_the_stats_frontend_serves_prometheus_metrics_and_health() -> None:
    stats = _block(CONFIG.render(), "frontend stats")
    assert stats[0] == "bind 127.0.0.1:8404"
    assert "http-request use-service prometheus-exporter if { path /metrics }" in stats
    assert any("/health" in line and "return status 200" in line for line in stats)


def test_haproxy_runs_when_the_gateway_has_replicas_or_when_asked() -> None:
    stack = default_stack()
    assert not stack.balanced
    assert stack.with_replicas(gateway=2).balanced
    assert not stack.with_replicas(auth=2).balanced  # auth's caller balances client-side
    assert stack.with_options(balancer=BalancerMode.ON).balanced
    assert not stack.with_replicas(gateway=3).with_options(balancer=BalancerMode.OFF).balanced


@pytest.mark.parametrize("count", [0, 17])
def test_replica_counts_are_bounded(count: int) -> None:
    with pytest.raises(ValueError, match="replicas"):
        default_stack().with_replicas(gateway=count)


def test_replicas_option_values() -> None:
    from typer import BadParameter

    from spikekit.cli.platform import REPLICAS, _parse_replicas

    assert _parse_replicas(["gateway=3,auth=2", "wallet=2", "gateway=4"]) == {
        "gateway": 4,
        "auth": 2,
        "wallet": 2,
    }
    for bad in ("gateway=17", "cashier=2", "gateway", "gateway=2,", "gateway=-1"):
        with pytest.raises(BadParameter):
            REPLICAS(bad)
