"""Answers lost for good: a studio hangs and loses the requests it caught (``lost`` hang).

Every call the hang catches stays unanswered after the studio is healthy again. The
fragile router waits without a timeout, so each of those calls holds one of its
connections to the studio for ever: once they are all taken, the studio stays out of
reach after the fault has ended — no recovery without a restart. The resilient router
gives up after its timeout, closes the socket, and plays rounds at the studio again as
soon as it answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from spikekit.reference_platform.spec import Profile
from tests.integration.router.conftest import Platform, start_platform, wait_for

pytestmark = pytest.mark.timeout(180)
POOL = 4  # the router's connections per studio
ROUND = {"game": "gonzo-gold", "bet": 100}  # only aurora offers it: no failover possible
CLIENT_TIMEOUT_S = 4.0


@pytest.fixture(scope="module", params=[Profile.FRAGILE, Profile.RESILIENT], ids=str)
def platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    state_dir = tmp_path_factory.mktemp(f"lost-{request.param}") / "stack"
    yield from start_platform(request.param, state_dir, {"SPIKEKIT_ROUTER_POOL": str(POOL)})


def play(platform: Platform, player: str) -> int | None:
    """The round's status, or None when no answer came within the client's timeout."""
    body = {**ROUND, "player_id": player}
    try:
        answer = httpx.post(
            f"{platform.router}/v1/rounds",
            json=body,
            timeout=CLIENT_TIMEOUT_S,
            auth=platform.as_gateway,
        )
    except httpx.TimeoutException:
        return None
    return answer.status_code


def test_a_studio_that_lost_requests_is_reached_again_only_with_a_timeout(
    platform: Platform,
) -> None:
    fragile = platform.stack.spec.profile is Profile.FRAGILE
    assert play(platform, "p000001") == 200
    fault = f"{platform.provider('aurora')}/control/providers/aurora/faults/lost"
    hang = {"type": "hang", "lost": True, "expires_in_s": 60}
    assert httpx.put(fault, json=hang, timeout=10).status_code == 200
    try:
        with ThreadPoolExecutor(POOL + 2) as pool:  # more rounds than connections
            players = [f"p{i:06d}" for i in range(2, POOL + 4)]
            during = list(pool.map(lambda p: play(platform, p), players))
    finally:
        assert httpx.delete(fault, timeout=10).status_code == 204

    if fragile:  # no timeout: every caller waits, the router never answers
        assert during == [None] * (POOL + 2)
    else:  # a 503 after the router's 2 s timeout (a round is never replayed elsewhere)
        assert during == [503] * (POOL + 2)

    # the studio is healthy again: do its games get rounds again?
    recovered = wait_for(lambda: play(platform, "p000010") == 200, timeout=12, interval=0.5)
    errors = platform.metric("router", "router_provider_errors_total", provider="aurora")
    if fragile:
        assert not recovered  # every connection still waits for an answer that was lost
        assert errors == 0  # nothing failed: it is all still waiting
    else:
        assert recovered
        assert errors >= POOL  # the timeouts that freed the connections
    held = platform.metric("provider-aurora", "provider_rounds_in_flight")
    assert held >= (POOL if fragile else 1)  # the lost requests, still held by the studio
