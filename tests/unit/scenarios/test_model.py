"""The model's derived figures, overrides, fault helpers and dumps of every fault type."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from spikekit.scenarios import dump_scenario, load_scenario, parse_scenario
from spikekit.scenarios.faults import FAULT_TYPES, ProviderErrors
from spikekit.scenarios.model import Scenario
from spikekit.scenarios.target import PlatformTarget, Service, UrlTarget

BASE: dict[str, object] = {
    "name": "t",
    "load": {"model": "closed", "stages": [{"duration": "10m", "players": 10}]},
}

# The required parameters of each fault type, so that every type can be built.
REQUIRED: dict[str, dict[str, object]] = {
    "network": {"link": "wallet-postgres"},
    "network.latency": {"latency_ms": 100},
    "network.bandwidth": {"rate_kb_s": 10},
    "network.slow_close": {"delay_ms": 10},
    "network.limit_data": {"max_bytes": 100},
    "provider.rate_limit": {"limit_rps": 10},
    "provider.latency": {"latency_ms": 100},
    "provider.capacity": {"max_concurrent": 5},
    "queue.flood": {"messages": 10},
    "queue.consumer_stall": {"consumer": "payments"},
    "queue.consumer_kill": {"consumer": "reporting"},
    "process": {"service": "wallet"},
    "docker": {"container": "casino-db"},
    "docker.disconnect": {"network": "backend"},
}


def _fault(kind: str) -> dict[str, object]:
    family = kind.split(".")[0]
    return {
        "type": kind,
        "at": "1m",
        "duration": "30s",
        **REQUIRED.get(family, {}),
        **REQUIRED.get(kind, {}),
    }


def test_every_fault_type_round_trips_through_yaml() -> None:
    data = {**BASE, "faults": [_fault(kind) for kind in FAULT_TYPES]}
    scenario = Scenario.model_validate(data)
    assert [type(f) for f in scenario.faults] == list(FAULT_TYPES.values())
    assert parse_scenario(dump_scenario(scenario)) == scenario
    for index, fault in enumerate(scenario.faults):
        assert fault.fault_id(index) == f"{index}-{fault.type}"
        assert fault.summary().startswith(fault.type)


def test_fault_params_and_target_for_the_journal() -> None:
    fault = ProviderErrors(type="provider.errors", at=60, provider="pragmatic", rate=0.5)
    assert fault.target_name() == "provider:pragmatic"
    assert fault.params() == {"provider": "pragmatic", "rate": 0.5, "status_codes": [500, 502, 503]}


def test_scale_and_duration_scale() -> None:
    scenario = load_scenario("provider-meltdown").with_overrides(scale=0.02, duration_scale=0.1)
    assert scenario.peak_players == 2400
    assert scenario.planned_duration_s == pytest.approx(132)
    start, end = scenario.fault_window(1)
    assert start == pytest.approx(54.0)
    assert end == pytest.approx(72.0)


def test_overrides_are_validated() -> None:
    with pytest.raises(ValidationError):
        load_scenario("smoke").with_overrides(scale=-1)


def test_target_union() -> None:
    url = Scenario.model_validate({**BASE, "target": {"url": "https://casino.example:8443/"}})
    assert url.target == UrlTarget(url="https://casino.example:8443")
    platform = Scenario.model_validate(
        {**BASE, "target": {"profile": "fragile", "replicas": {"gateway": 2}}}
    )
    assert isinstance(platform.target, PlatformTarget)
    assert platform.target.replicas_of(Service.GATEWAY) == 2
    assert platform.target.replicas_of(Service.WALLET) == 1
    assert parse_scenario(dump_scenario(url)) == url


def test_persona_shares_sum_to_one() -> None:
    shares = load_scenario("sports-final").personas.shares()
    assert sum(shares.values()) == pytest.approx(1)


def test_python_construction_reports_cross_field_problems() -> None:
    with pytest.raises(ValidationError, match=r"faults\[0\]\.at"):
        Scenario.model_validate({**BASE, "faults": [{**_fault("cache.flush"), "at": "11m"}]})
