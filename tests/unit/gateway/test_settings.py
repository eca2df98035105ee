"""Each mechanism follows the profile unless its own switch says otherwise."""

from __future__ import annotations

from spikekit.reference_platform.gateway.settings import GatewaySettings


def test_resilient_turns_every_mechanism_on() -> None:
    policy = GatewaySettings(profile="resilient", gateway_max_in_flight=32).policy
    assert policy.max_in_flight == 32
    assert (policy.timeout_s, policy.router_timeout_s) == (2.0, 6.0)
    assert policy.lobby_cache and policy.session_cache and policy.bulkheads


def test_fragile_turns_them_off() -> None:
    policy = GatewaySettings(profile="fragile").policy
    assert policy.max_in_flight is None
    assert (policy.timeout_s, policy.router_timeout_s) == (None, None)  # no timeout at all
    assert not policy.lobby_cache and not policy.session_cache and not policy.bulkheads


def test_a_fragile_gateway_can_be_given_a_long_timeout() -> None:
    policy = GatewaySettings(profile="fragile", gateway_fragile_timeout_s=30).policy
    assert (policy.timeout_s, policy.router_timeout_s) == (30.0, 30.0)


def test_one_switch_overrides_the_profile() -> None:
    policy = GatewaySettings(profile="fragile", gateway_backpressure=True).policy
    assert policy.max_in_flight == 256 and not policy.lobby_cache
    policy = GatewaySettings(profile="resilient", gateway_lobby_cache=False).policy
    assert not policy.lobby_cache and policy.max_in_flight == 256


def test_dependency_urls_are_split_and_trimmed() -> None:
    settings = GatewaySettings(wallet_urls=" http://127.0.0.1:1/, http://127.0.0.1:2 ,")
    assert settings.base_urls("wallet") == ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    assert settings.base_urls("router") == []
