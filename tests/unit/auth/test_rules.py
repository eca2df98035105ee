"""Pure rules: rate-limit windows, tokens, seeded names, the validation cache, settings."""

from __future__ import annotations

import pytest

from spikekit.reference_platform.auth.domain import (
    FixedWindow,
    is_well_formed,
    new_player_id,
    new_token,
    normalize_username,
    seed_password,
    seed_player_id,
    seed_username,
    token_digest,
)
from spikekit.reference_platform.auth.service_layer.cache import ValidationCache
from spikekit.reference_platform.auth.settings import AuthSettings, Policy


def test_a_window_is_the_floor_of_time_over_its_length() -> None:
    window = FixedWindow(limit=5, window_s=60)
    assert window.index(0) == 0
    assert window.index(59.999) == 0
    assert window.index(60) == 1
    assert window.key("auth:rl:fail:", "alice", 125.0) == "auth:rl:fail:alice:2"


def test_retry_after_is_the_rest_of_the_window_in_whole_seconds() -> None:
    window = FixedWindow(limit=5, window_s=60)
    assert window.retry_after(120.0) == 60
    assert window.retry_after(150.2) == 30  # 29.8 s left, rounded up
    assert window.retry_after(179.9) == 1
    assert window.expire_s(150.2) == 31  # the counter outlives its window by a second


def test_a_window_is_exceeded_past_its_limit() -> None:
    window = FixedWindow(limit=3, window_s=10)
    assert [window.exceeded(n) for n in (1, 3, 4)] == [False, False, True]
    with pytest.raises(ValueError):
        FixedWindow(limit=0, window_s=10)


def test_tokens_are_prefixed_random_and_recognisable() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(is_well_formed(t) and t.startswith("st_") and len(t) == 46 for t in tokens)
    assert not is_well_formed("st_short")
    assert not is_well_formed("xx_" + "a" * 43)
    assert not is_well_formed(next(iter(tokens)) + "=")
    token = next(iter(tokens))
    assert len(token_digest(token)) == 64 and token not in token_digest(token)


def test_seeded_names_and_documented_passwords() -> None:
    assert seed_player_id(1) == "p000001"
    assert seed_username(200_000) == "player200000"
    assert seed_password(1) == "spike-1"
    assert seed_password(64) == "spike-0"
    assert seed_password(100) == "spike-36"


def test_registered_player_ids_cannot_collide_with_seeded_ones() -> None:
    player_id = new_player_id()
    assert player_id.startswith("p") and len(player_id) == 17
    assert normalize_username("  Alice ") == "alice"


def test_cache_entries_end_at_their_ttl_or_the_session_end() -> None:
    cache = ValidationCache(ttl_s=5, max_size=10)
    cache.put("a", "p1", expires_at=1000.0, now=100.0)
    cache.put("b", "p2", expires_at=102.0, now=100.0)  # the session ends first
    assert cache.get("a", 104.9) is not None
    assert cache.get("a", 105.0) is None
    assert cache.get("b", 101.9) is not None
    assert cache.get("b", 102.0) is None
    cache.put("c", "p3", expires_at=100.0, now=100.0)  # already over: not stored
    assert len(cache) == 0


def test_cache_evicts_the_least_recently_used() -> None:
    cache = ValidationCache(ttl_s=60, max_size=2)
    cache.put("a", "p1", 1e9, 0.0)
    cache.put("b", "p2", 1e9, 0.0)
    assert cache.get("a", 1.0) is not None  # a is now the most recent
    cache.put("c", "p3", 1e9, 1.0)
    assert cache.get("b", 1.0) is None
    assert cache.get("a", 1.0) is not None and cache.get("c", 1.0) is not None
    cache.discard("a")
    assert cache.get("a", 1.0) is None


def test_resilient_profile_turns_every_mechanism_on() -> None:
    policy = AuthSettings(profile="resilient").policy
    assert policy == Policy(
        rate_limits=True, validation_cache=True, verify_bound=32, hash_threads=2
    )


def test_fragile_profile_turns_every_mechanism_off() -> None:
    policy = AuthSettings(profile="fragile").policy
    assert not policy.rate_limits and not policy.validation_cache
    assert policy.verify_bound is None
    assert policy.hash_threads == 32  # unbounded use of threads


def test_each_mechanism_is_its_own_switch() -> None:
    policy = AuthSettings(profile="resilient", auth_rate_limits=False).policy
    assert not policy.rate_limits and policy.validation_cache and policy.verify_bound == 32
    policy = AuthSettings(profile="fragile", auth_bounded_verify=True, auth_verify_bound=3).policy
    assert policy.verify_bound == 3 and not policy.rate_limits


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIKEKIT_PROFILE", "fragile")
    monkeypatch.setenv("SPIKEKIT_AUTH_VALIDATION_CACHE", "true")
    monkeypatch.setenv("SPIKEKIT_AUTH_ARGON2_TIME_COST", "4")
    settings = AuthSettings()
    assert settings.policy.validation_cache and not settings.policy.rate_limits
    assert settings.argon2_cost == (4, 19_456, 1)
    assert settings.service == "auth"
