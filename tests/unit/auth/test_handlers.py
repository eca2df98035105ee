"""The auth use cases on fakes, wired by bootstrap() as the service wires the real adapters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from spikekit.reference_platform.auth.bootstrap import bootstrap
from spikekit.reference_platform.auth.domain import (
    InvalidCredentials,
    InvalidSession,
    LoginOutcome,
    Overloaded,
    RateLimited,
    UsernameTaken,
)
from spikekit.reference_platform.auth.service_layer.handlers import Auth
from spikekit.reference_platform.auth.settings import AuthSettings
from tests.unit.auth.fakes import (
    FakeClock,
    FakeCounters,
    FakeCredentials,
    FakePasswords,
    FakeSessions,
    RecordingTelemetry,
)

T = TypeVar("T")
ADDRESS = "10.0.0.1"


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


@dataclass
class World:
    auth: Auth
    clock: FakeClock
    credentials: FakeCredentials
    sessions: FakeSessions
    passwords: FakePasswords
    telemetry: RecordingTelemetry


def world(**settings: object) -> World:
    clock = FakeClock()
    credentials, sessions = FakeCredentials(), FakeSessions(clock)
    passwords, telemetry = FakePasswords(), RecordingTelemetry()
    config = AuthSettings.model_validate(
        {"auth_account_failures": 3, "auth_address_attempts": 5, **settings}
    )
    auth = bootstrap(
        config,
        credentials=credentials,
        sessions=sessions,
        counters=FakeCounters(clock),
        passwords=passwords,
        telemetry=telemetry,
        clock=clock,
    )
    return World(auth, clock, credentials, sessions, passwords, telemetry)


def test_register_login_validate_logout() -> None:
    w = world()
    player_id = run(w.auth.register("Alice", "correct horse"))
    session = run(w.auth.login("alice", "correct horse", ADDRESS))
    assert session.player_id == player_id and session.expires_in_s == 1800
    assert run(w.auth.validate(session.token)).player_id == player_id
    run(w.auth.logout(session.token))
    with pytest.raises(InvalidSession):
        run(w.auth.validate(session.token))
    assert w.telemetry.logins == [LoginOutcome.OK]


def test_a_taken_username_is_refused_before_hashing() -> None:
    w = world()
    run(w.auth.register("alice", "correct horse"))
    w.passwords.overloaded = True  # a hash would raise Overloaded
    with pytest.raises(UsernameTaken):
        run(w.auth.register("ALICE", "another one"))


def test_unknown_user_costs_a_password_check_and_the_same_answer() -> None:
    w = world()
    run(w.auth.register("alice", "correct horse"))
    with pytest.raises(InvalidCredentials) as unknown:
        run(w.auth.login("bob", "whatever", ADDRESS))
    with pytest.raises(InvalidCredentials) as wrong:
        run(w.auth.login("alice", "wrong", ADDRESS))
    assert str(unknown.value) == str(wrong.value)
    assert w.passwords.verifications == 2
    assert w.telemetry.logins == [LoginOutcome.UNKNOWN, LoginOutcome.BAD_PASSWORD]


def test_account_is_locked_after_n_failures_until_its_window_ends() -> None:
    w = world(auth_account_window_s=300)
    run(w.auth.register("alice", "correct horse"))
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            run(w.auth.login("alice", "wrong", ADDRESS))
    checks = w.passwords.verifications
    with pytest.raises(RateLimited) as limited:
        run(w.auth.login("alice", "correct horse", "10.0.0.2"))  # even right, elsewhere
    assert limited.value.scope == "account" and 1 <= limited.value.retry_after_s <= 300
    assert w.passwords.verifications == checks  # refused before the costly check
    w.clock.advance(limited.value.retry_after_s)
    assert run(w.auth.login("alice", "correct horse", ADDRESS)).player_id


def test_address_is_limited_on_attempts_whatever_the_account() -> None:
    w = world(auth_address_window_s=60)
    run(w.auth.register("alice", "correct horse"))
    for _ in range(5):
        run(w.auth.login("alice", "correct horse", ADDRESS))
    with pytest.raises(RateLimited) as limited:
        run(w.auth.login("alice", "correct horse", ADDRESS))
    assert limited.value.scope == "address"
    assert run(w.auth.login("alice", "correct horse", "10.0.0.9")).player_id
    assert w.telemetry.logins.count(LoginOutcome.RATE_LIMITED) == 1


def test_without_rate_limits_a_storm_only_gets_401() -> None:
    w = world(profile="fragile")
    run(w.auth.register("alice", "correct horse"))
    for _ in range(20):
        with pytest.raises(InvalidCredentials):
            run(w.auth.login("alice", "wrong", ADDRESS))
    assert set(w.telemetry.logins) == {LoginOutcome.BAD_PASSWORD}


def test_overload_is_counted_and_raised() -> None:
    w = world()
    run(w.auth.register("alice", "correct horse"))
    w.passwords.overloaded = True
    with pytest.raises(Overloaded):
        run(w.auth.login("alice", "correct horse", ADDRESS))
    assert w.telemetry.logins == [LoginOutcome.OVERLOADED]


def test_validation_is_cached_for_a_few_seconds() -> None:
    w = world(auth_cache_ttl_s=5)
    run(w.auth.register("alice", "correct horse"))
    token = run(w.auth.login("alice", "correct horse", ADDRESS)).token
    for _ in range(3):
        run(w.auth.validate(token))
    assert w.sessions.lookups == 1
    assert w.telemetry.cache_hits == [False, True, True]
    w.clock.advance(5)
    run(w.auth.validate(token))
    assert w.sessions.lookups == 2


def test_without_the_cache_every_validation_asks_the_store() -> None:
    w = world(auth_validation_cache=False)
    run(w.auth.register("alice", "correct horse"))
    token = run(w.auth.login("alice", "correct horse", ADDRESS)).token
    for _ in range(3):
        run(w.auth.validate(token))
    assert w.sessions.lookups == 3 and w.telemetry.cache_hits == []


def test_sessions_expire_and_report_what_they_have_left() -> None:
    w = world(auth_session_ttl_s=60, auth_validation_cache=False)
    run(w.auth.register("alice", "correct horse"))
    token = run(w.auth.login("alice", "correct horse", ADDRESS)).token
    w.clock.advance(20.5)
    assert run(w.auth.validate(token)).expires_in_s == 40
    w.clock.advance(40)
    with pytest.raises(InvalidSession):
        run(w.auth.validate(token))


def test_malformed_tokens_never_reach_the_store() -> None:
    w = world()
    with pytest.raises(InvalidSession):
        run(w.auth.validate("not-a-token"))
    run(w.auth.logout("not-a-token"))
    assert w.sessions.lookups == 0
