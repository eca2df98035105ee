"""ToxiproxyClient against the real toxiproxy-server and a real TCP echo upstream."""

from __future__ import annotations

import socket
import time

import pytest

from spikekit.errors import ToxiproxyError
from spikekit.toxiproxy.client import (
    ProxySpec,
    RemovalOutcome,
    Stream,
    ToxicType,
    ToxiproxyClient,
)
from spikekit.toxiproxy.server import free_port
from tests.integration.toxiproxy.helpers import round_trip

pytestmark = pytest.mark.toxiproxy

FAST = 0.15  # s: a round trip through an untoxic proxy, with room for a noisy machine


def test_version_answers(toxiproxy: ToxiproxyClient) -> None:
    assert toxiproxy.version()  # "2.12.0", or "git" for an unstamped `go install` build


def test_create_get_list_delete_proxy(toxiproxy: ToxiproxyClient, echo_upstream: str) -> None:
    proxy = toxiproxy.create_proxy("pg", listen="127.0.0.1:0", upstream=echo_upstream)
    assert proxy.enabled and proxy.upstream == echo_upstream and proxy.toxics == ()
    assert proxy.listen_host == "127.0.0.1" and proxy.listen_port > 0
    assert toxiproxy.get_proxy("pg") == proxy
    assert list(toxiproxy.list_proxies()) == ["pg"]
    assert round_trip(proxy.listen_host, proxy.listen_port) < FAST

    toxiproxy.delete_proxy("pg")
    assert toxiproxy.list_proxies() == {}
    toxiproxy.delete_proxy("pg", missing_ok=True)  # idempotent when asked
    with pytest.raises(ToxiproxyError, match="proxy not found") as err:
        toxiproxy.delete_proxy("pg")
    assert err.value.status == 404


def test_populate_creates_working_proxies(toxiproxy: ToxiproxyClient, echo_upstream: str) -> None:
    specs = [
        ProxySpec(name="a", listen="127.0.0.1:0", upstream=echo_upstream),
        ProxySpec(name="b", listen="127.0.0.1:0", upstream=echo_upstream, enabled=False),
    ]
    created = {p.name: p for p in toxiproxy.populate(specs)}
    assert set(created) == {"a", "b"} and not created["b"].enabled
    assert round_trip(created["a"].listen_host, created["a"].listen_port) < FAST


def test_latency_toxic_adds_latency_and_removal_restores(
    toxiproxy: ToxiproxyClient, echo_upstream: str
) -> None:
    proxy = toxiproxy.create_proxy("db", listen="127.0.0.1:0", upstream=echo_upstream)
    address = (proxy.listen_host, proxy.listen_port)
    assert round_trip(*address) < FAST

    toxic = toxiproxy.add_toxic("db", ToxicType.LATENCY, {"latency": 200})
    assert toxic.name == "latency_downstream" and toxic.stream is Stream.DOWNSTREAM
    assert toxic.attributes == {"latency": 200, "jitter": 0}
    assert toxiproxy.list_toxics("db") == [toxic]
    assert round_trip(*address) >= 0.200

    assert toxiproxy.remove_toxic("db", toxic.name) is True
    assert toxiproxy.get_proxy("db").toxics == ()
    assert round_trip(*address) < FAST


def test_update_toxic_changes_latency_and_keeps_other_attributes(
    toxiproxy: ToxiproxyClient, echo_upstream: str
) -> None:
    proxy = toxiproxy.create_proxy("db", listen="127.0.0.1:0", upstream=echo_upstream)
    toxiproxy.add_toxic("db", "latency", {"latency": 50, "jitter": 5}, name="slow")
    assert round_trip(proxy.listen_host, proxy.listen_port) < 0.05 + FAST

    updated = toxiproxy.update_toxic("db", "slow", {"latency": 300})
    assert updated.attributes == {"latency": 300, "jitter": 5}
    assert round_trip(proxy.listen_host, proxy.listen_port) >= 0.295  # 300 ms minus jitter

    assert toxiproxy.update_toxic("db", "slow", toxicity=0.5).toxicity == 0.5


def test_disable_refuses_connections_and_enable_restores(
    toxiproxy: ToxiproxyClient, echo_upstream: str
) -> None:
    proxy = toxiproxy.create_proxy("redis", listen="127.0.0.1:0", upstream=echo_upstream)
    address = (proxy.listen_host, proxy.listen_port)

    assert not toxiproxy.disable_proxy("redis").enabled
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=2).close()

    restored = toxiproxy.enable_proxy("redis")
    assert restored.enabled and restored.listen_port == proxy.listen_port
    assert round_trip(*address) < FAST


def test_reset_removes_toxics_and_enables_proxies(
    toxiproxy: ToxiproxyClient, echo_upstream: str
) -> None:
    a = toxiproxy.create_proxy("a", listen="127.0.0.1:0", upstream=echo_upstream)
    toxiproxy.create_proxy("b", listen="127.0.0.1:0", upstream=echo_upstream)
    toxiproxy.add_toxic("a", ToxicType.LATENCY, {"latency": 300})
    toxiproxy.add_toxic("a", ToxicType.BANDWIDTH, {"rate": 1}, stream=Stream.UPSTREAM)
    toxiproxy.add_toxic("b", ToxicType.TIMEOUT, {"timeout": 0})
    toxiproxy.disable_proxy("b")

    toxiproxy.reset()

    proxies = toxiproxy.list_proxies()
    assert all(p.enabled and p.toxics == () for p in proxies.values())
    assert round_trip(a.listen_host, a.listen_port) < FAST


def test_removing_an_absent_toxic_is_success(
    toxiproxy: ToxiproxyClient, echo_upstream: str
) -> None:
    toxiproxy.create_proxy("db", listen="127.0.0.1:0", upstream=echo_upstream)
    toxiproxy.add_toxic("db", ToxicType.RESET_PEER, {"timeout": 100}, name="cut")

    assert toxiproxy.remove_toxic_or_reset("db", "cut") is RemovalOutcome.REMOVED
    assert toxiproxy.remove_toxic("db", "cut") is False
    assert toxiproxy.remove_toxic_or_reset("db", "cut") is RemovalOutcome.ABSENT
    assert toxiproxy.remove_toxic_or_reset("no_such_proxy", "cut") is RemovalOutcome.ABSENT


def test_bad_requests_raise_with_the_servers_words(
    toxiproxy: ToxiproxyClient, echo_upstream: str
) -> None:
    toxiproxy.create_proxy("dup", listen="127.0.0.1:0", upstream=echo_upstream)
    with pytest.raises(ToxiproxyError, match=r"create proxy 'dup': proxy already exists") as err:
        toxiproxy.create_proxy("dup", listen="127.0.0.1:0", upstream=echo_upstream)
    assert err.value.status == 409

    with pytest.raises(ToxiproxyError, match=r"to proxy 'dup': invalid toxic type") as err:
        toxiproxy.add_toxic("dup", "earthquake", {"magnitude": 9})
    assert err.value.status == 400

    toxiproxy.add_toxic("dup", ToxicType.SLICER, {"average_size": 64}, name="s")
    with pytest.raises(ToxiproxyError, match="toxic already exists") as err:
        toxiproxy.add_toxic("dup", ToxicType.SLICER, {"average_size": 64}, name="s")
    assert err.value.status == 409

    with pytest.raises(ToxiproxyError, match=r"'nowhere'.*proxy not found") as err:
        toxiproxy.add_toxic("nowhere", ToxicType.LATENCY, {"latency": 1})
    assert err.value.status == 404

    with pytest.raises(ToxiproxyError, match="unknown attribute"):  # refused before sending
        toxiproxy.add_toxic("dup", ToxicType.LATENCY, {"latency_ms": 200})
    assert [t.name for t in toxiproxy.list_toxics("dup")] == ["s"]


def test_closed_port_fails_fast_with_a_hint() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with (
        ToxiproxyClient(url, timeout=1.0) as client,
        pytest.raises(ToxiproxyError, match=rf"is toxiproxy-server running at {url}\?") as err,
    ):
        client.version()
    assert time.monotonic() - start < 1.0
    assert err.value.status is None
