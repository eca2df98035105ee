"""The target guard: loopback passes, anything else needs --allow-target."""

from __future__ import annotations

import pytest

from spikekit.errors import UnsafeTargetError
from spikekit.guard import TargetGuard


def _fake_dns(host: str) -> list[str]:
    table = {"example.com": ["93.184.216.34"], "localhost": ["127.0.0.1", "::1"]}
    if host not in table:
        raise OSError("Name or service not known")
    return table[host]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "::1", "localhost"])
def test_this_machine_is_fine(host: str) -> None:
    TargetGuard(resolver=_fake_dns).check_host(host, "test")


def test_localhost_through_the_real_resolver() -> None:
    TargetGuard().check_url("http://localhost:8474", "toxiproxy")


@pytest.mark.parametrize("host", ["10.0.0.1", "example.com", "no-such-host.invalid"])
def test_elsewhere_is_refused_naming_the_host_and_the_option(host: str) -> None:
    with pytest.raises(UnsafeTargetError, match=f"--allow-target {host}|does not resolve"):
        TargetGuard(resolver=_fake_dns).check_host(host, "toxiproxy")


@pytest.mark.parametrize("host", ["10.0.0.1", "example.com"])
def test_elsewhere_passes_once_allowed(host: str) -> None:
    guard = TargetGuard([host.upper()], resolver=_fake_dns)
    guard.check_url(f"postgresql://u@{host}:5432/db", "database")


def test_urls_dsns_and_addresses() -> None:
    guard = TargetGuard(resolver=_fake_dns)
    guard.check_url("redis://127.0.0.1:6379/0", "cache")
    guard.check_address("127.0.0.1:5432", "link")
    guard.check_url("unix:///var/run/docker.sock", "docker")
    with pytest.raises(UnsafeTargetError, match=r"10\.0\.0\.1"):
        guard.check_address("10.0.0.1:5432", "link")


def test_queue_faults_hit_the_workers_not_the_api_that_only_enqueues() -> None:
    from spikekit.chaos.queue import consumer_names

    assert consumer_names("payments", {"payments", "payments-worker"}) == ["payments-worker"]
    assert consumer_names("reporting", {"reporting", "wallet"}) == ["reporting"]
