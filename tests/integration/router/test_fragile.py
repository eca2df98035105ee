"""The fragile profile on a real stack: no health routing, breakers, failover or retry budget,
so while one studio is down every round routed to it fails, and each one hammers it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from spikekit.reference_platform.spec import Profile
from tests.integration.router.conftest import Platform, start_platform

pytestmark = pytest.mark.timeout(120)
ROUNDS = 5
ATTEMPTS = 5  # the fragile profile's retries per round, without a budget


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from start_platform(Profile.FRAGILE, tmp_path_factory.mktemp("fragile") / "stack")


def _round(platform: Platform, body: dict[str, object]) -> httpx.Response:
    """A round at the router, signed as the gateway."""
    return httpx.post(
        f"{platform.router}/v1/rounds", json=body, timeout=60, auth=platform.as_gateway
    )


def test_without_failover_rounds_fail_while_the_studio_is_down(platform: Platform) -> None:
    aurora = platform.provider("aurora")
    body = {"player_id": "p000005", "game": "starburst-nova", "bet": 100}
    healthy = _round(platform, body)
    assert healthy.status_code == 200 and healthy.json()["provider"] == "aurora"

    fault = f"{aurora}/control/providers/aurora/faults/down"
    down = {"type": "errors", "rate": 1.0, "status_codes": [502], "expires_in_s": 60}
    assert httpx.put(fault, json=down, timeout=10).status_code == 200
    try:
        answers = [_round(platform, body) for _ in range(ROUNDS)]
    finally:
        assert httpx.delete(fault, timeout=10).status_code == 204

    # blitz offers the game too and is healthy, yet no round moves there
    assert [a.status_code for a in answers] == [503] * ROUNDS
    assert platform.metric("router", "router_failovers_total") == 0
    hits = platform.metric("provider-aurora", "provider_rejected_total", code="INJECTED_FAULT")
    assert hits == ROUNDS * ATTEMPTS  # no breaker, no budget: every retry reaches the studio
    views = {v["provider"]: v for v in httpx.get(f"{platform.router}/v1/providers").json()}
    assert views["aurora"]["breaker"] == "closed"  # there is none
    assert _round(platform, body).status_code == 200
