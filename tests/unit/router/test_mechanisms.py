"""Profiles and their mechanisms: settings, retry budget, breakers (in memory), routing order."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from spikekit.reference_platform.common.http_client import HttpResponse
from spikekit.reference_platform.router.breakers import BreakerOpen, Breakers
from spikekit.reference_platform.router.budget import RetryBudget, Unlimited
from spikekit.reference_platform.router.health import Health
from spikekit.reference_platform.router.health_store import HealthBoard
from spikekit.reference_platform.router.provider_client import ProviderFailed
from spikekit.reference_platform.router.service import Router, RouterError
from spikekit.reference_platform.router.settings import Mechanisms, RouterSettings
from tests.unit.fake_clock import FakeClock


def test_the_resilient_profile_turns_every_mechanism_on() -> None:
    m = RouterSettings(profile="resilient").mechanisms()
    assert (m.health_routing, m.breakers, m.failover, m.retry_budget) == (True,) * 4
    assert m.timeout_s <= 2.0 and m.attempts == 2


def test_the_fragile_profile_turns_them_off_and_waits_without_a_timeout() -> None:
    m = RouterSettings(profile="fragile").mechanisms()
    assert (m.health_routing, m.breakers, m.failover, m.retry_budget) == (False,) * 4
    assert m.timeout_s is None and m.attempts >= 5
    assert RouterSettings(profile="fragile", router_timeout_s=30).mechanisms().timeout_s == 30


def test_each_mechanism_is_its_own_switch() -> None:
    m = RouterSettings(profile="fragile", router_breakers=True, router_timeout_s=1).mechanisms()
    assert m.breakers and not m.failover and not m.health_routing and m.timeout_s == 1
    m = RouterSettings(profile="resilient", router_failover=False).mechanisms()
    assert not m.failover and m.breakers and m.health_routing and m.retry_budget


def test_studios_come_from_the_supervisors_variables() -> None:
    env = {
        "SPIKEKIT_PROVIDER_AURORA_URLS": "http://127.0.0.1:1, http://127.0.0.1:2",
        "SPIKEKIT_PROVIDER_NEW_STUDIO_URLS": "http://127.0.0.1:3",
        "SPIKEKIT_PROVIDER_WALLET_TIMEOUT_S": "1",
    }
    assert RouterSettings().studios(env) == {
        "aurora": ["http://127.0.0.1:1", "http://127.0.0.1:2"],
        "new-studio": ["http://127.0.0.1:3"],
    }


def test_the_retry_budget_caps_retries_at_a_share_of_requests() -> None:
    budget = RetryBudget(ratio=0.2, min_per_s=0.0, cap=100.0)
    budget.tokens = 0.0
    allowed = 0
    for _ in range(100):
        budget.record_request(0.0)
        allowed += budget.try_spend(0.0)
    assert 19 <= allowed <= 20 and budget.exhausted >= 80
    assert all(Unlimited().try_spend(0.0) for _ in range(1000))


def test_a_breaker_opens_after_its_threshold_and_closes_after_a_good_try() -> None:
    states: list[tuple[str, int]] = []
    clock = FakeClock(start=time.time())  # wall seconds, like the breakers' opened_at
    breakers = Breakers(
        True, 3, 60.0, ProviderFailed, on_state=lambda s, v: states.append((s, v)), clock=clock.now
    )

    async def fail() -> None:
        async with breakers.guard("aurora"):
            raise ProviderFailed("aurora", "status 503", ambiguous=False)

    async def succeed() -> None:
        async with breakers.guard("aurora"):
            pass

    async def scenario() -> None:
        for _ in range(3):
            with pytest.raises(ProviderFailed):
                await fail()
        assert await breakers.state("aurora") == "opened"
        with pytest.raises(BreakerOpen):
            await succeed()
        await clock.advance(61.0)  # the open period is over
        await succeed()  # half-open try
        assert await breakers.state("aurora") == "closed"
        with pytest.raises(KeyError):  # not the studio's fault: does not count
            async with breakers.guard("aurora"):
                raise KeyError("bug")
        assert await breakers.state("aurora") == "closed"

    asyncio.run(scenario())
    assert ("aurora", 2) in states and states[-1] == ("aurora", 0)


def test_disabled_breakers_never_open() -> None:
    breakers = Breakers(False, 1, 60, ProviderFailed)

    async def scenario() -> str:
        for _ in range(5):
            with pytest.raises(ProviderFailed):
                async with breakers.guard("aurora"):
                    raise ProviderFailed("aurora", "down", ambiguous=False)
        return await breakers.state("aurora")

    assert asyncio.run(scenario()) == "closed"


def _router(mechanisms: Mechanisms, board: HealthBoard) -> Router:
    clients = dict.fromkeys(("aurora", "blitz", "cobalt"), None)
    return Router(clients, mechanisms, board, rng=random.Random(3))  # type: ignore[arg-type]


def test_routing_order_per_profile() -> None:
    board = HealthBoard("r", None, 1.0)
    board.local["aurora"] = Health(latency_ms=5, error_rate=1.0, samples=50, updated=9e12)
    resilient = _router(RouterSettings(profile="resilient").mechanisms(), board)
    fragile = _router(RouterSettings(profile="fragile").mechanisms(), board)
    # starburst-nova: aurora first in the catalogue, blitz second
    assert resilient.order("starburst-nova") == ["blitz", "aurora"]  # aurora is failing
    assert fragile.order("starburst-nova") == ["aurora"]  # static, no failover
    assert fragile.order("starburst-nova", prefer="blitz") == ["blitz"]
    assert resilient.order("gonzo-gold") == ["aurora"]  # only one studio offers it
    with pytest.raises(RouterError) as caught:
        resilient.order("no-such-game")
    assert caught.value.status == 404


class _FakeStudio:
    """A studio client that fails the way it is told, and counts what it was sent."""

    def __init__(self, failure: ProviderFailed | None) -> None:
        self.failure = failure
        self.calls: list[tuple[str, bool]] = []

    async def post(
        self, operation: str, path: str, body: bytes, *, idempotent: bool = True
    ) -> HttpResponse:
        self.calls.append((operation, idempotent))
        if self.failure is not None:
            raise self.failure
        return HttpResponse(200, {}, b'{"round_id": "r1", "session_id": "blitz.s1"}')


def _two_studios(first_failure: ProviderFailed) -> tuple[Router, _FakeStudio, _FakeStudio]:
    board = HealthBoard("r", None, 1.0)
    board.local["blitz"] = Health(latency_ms=500, error_rate=0.5, samples=50, updated=9e12)
    aurora, blitz = _FakeStudio(first_failure), _FakeStudio(None)
    clients = {"aurora": aurora, "blitz": blitz}
    mechanisms = RouterSettings(profile="resilient").mechanisms()
    router = Router(clients, mechanisms, board, rng=random.Random(3))  # type: ignore[arg-type]
    return router, aurora, blitz


def test_a_round_a_studio_may_have_played_is_never_played_again_elsewhere() -> None:
    timeout = ProviderFailed("aurora", "timeout", ambiguous=True)
    router, aurora, blitz = _two_studios(timeout)
    with pytest.raises(RouterError) as caught:
        asyncio.run(router.play("p000001", "starburst-nova", 10, None))
    assert caught.value.code == "ROUND_UNCERTAIN" and caught.value.status == 503
    assert aurora.calls == [("rounds", False)] and blitz.calls == []


def test_a_refused_round_and_an_uncertain_launch_fail_over() -> None:
    refused = ProviderFailed("aurora", "status 503", ambiguous=False)
    router, _, blitz = _two_studios(refused)
    answer = asyncio.run(router.play("p000001", "starburst-nova", 10, None))
    assert answer["failover"] is True and blitz.calls == [("rounds", False)]
    router, _, blitz = _two_studios(ProviderFailed("aurora", "timeout", ambiguous=True))
    asyncio.run(router.launch("p000001", "starburst-nova"))
    assert blitz.calls == [("launch", True)]


def test_the_fragile_router_replays_an_uncertain_round_elsewhere() -> None:
    board = HealthBoard("r", None, 1.0)
    aurora = _FakeStudio(ProviderFailed("aurora", "timeout", ambiguous=True))
    blitz = _FakeStudio(None)
    mechanisms = RouterSettings(profile="fragile", router_failover=True).mechanisms()
    assert mechanisms.safe_rounds is False
    router = Router({"aurora": aurora, "blitz": blitz}, mechanisms, board)  # type: ignore[dict-item]
    asyncio.run(router.play("p000001", "starburst-nova", 10, None))
    assert aurora.calls == [("rounds", True)] and blitz.calls == [("rounds", True)]


class _AnsweringStudio:
    """A studio client that answers one status and error code to everything."""

    def __init__(self, status: int, code: str) -> None:
        body = f'{{"error": {{"code": "{code}", "message": "m", "details": []}}}}'
        self.response = HttpResponse(status, {}, body.encode())

    async def post(
        self, operation: str, path: str, body: bytes, *, idempotent: bool = True
    ) -> HttpResponse:
        return self.response


def test_a_studio_refusing_the_routers_key_is_a_502_not_the_players_session() -> None:
    mechanisms = RouterSettings(profile="resilient").mechanisms()
    answers = {
        ("UNAUTHENTICATED", 401): (502, "CALLER_REFUSED"),
        ("FORBIDDEN", 403): (502, "CALLER_REFUSED"),
        ("INVALID_SESSION", 401): (409, "INVALID_SESSION"),  # the player's, passed on
    }
    for (code, status), expected in answers.items():
        studio = _AnsweringStudio(status, code)
        router = Router({"aurora": studio}, mechanisms, HealthBoard("r", None, 1.0))  # type: ignore[dict-item]
        with pytest.raises(RouterError) as caught:
            asyncio.run(router.play("p000001", "gonzo-gold", 10, None))
        assert (caught.value.status, caught.value.code) == expected
