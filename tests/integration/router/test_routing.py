"""The router and the studios on a real stack (resilient profile): money moves once, a
failing studio trips its breaker and games fail over, a slow wallet link is retried with the
same transaction id and rolled back, never debited twice."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from spikekit.reference_platform.spec import Profile
from spikekit.toxiproxy.client import ToxiproxyClient
from tests.conftest import require_toxiproxy
from tests.integration.router.conftest import BALANCE, Platform, start_platform, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from start_platform(Profile.RESILIENT, tmp_path_factory.mktemp("router") / "stack")


def _round(platform: Platform, player: str, game: str, bet: int, **extra: str) -> httpx.Response:
    body = {"player_id": player, "game": game, "bet": bet, **extra}
    return httpx.post(
        f"{platform.router}/v1/rounds", json=body, timeout=30, auth=platform.as_gateway
    )


def test_a_round_debits_and_credits_exactly_once(platform: Platform) -> None:
    player = "p000001"
    launched = httpx.post(
        f"{platform.router}/v1/launch",
        json={"player_id": player, "game": "gonzo-gold"},
        timeout=10,
        auth=platform.as_gateway,
    )
    assert launched.status_code == 200, launched.text
    session = launched.json()
    assert session["provider"] == "aurora" and session["session_id"].startswith("aurora.")

    answers = [
        _round(platform, player, "gonzo-gold", 250, session_id=session["session_id"])
        for _ in range(5)
    ]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    rounds = [a.json() for a in answers]
    wins = sum(r["win"] for r in rounds)
    assert platform.balance(player) == BALANCE - 5 * 250 + wins
    assert rounds[-1]["balance"] == BALANCE - 5 * 250 + wins
    for r in rounds:
        rows = platform.rows(
            "SELECT kind, amount FROM wallet.ledger_entries WHERE provider = 'aurora' "
            "AND round_id = $1 ORDER BY id",
            r["round_id"],
        )
        expected = [("bet", -250)] + ([("win", r["win"])] if r["win"] else [])
        assert [(row["kind"], row["amount"]) for row in rows] == expected


def test_bad_input_is_a_4xx_json_error(platform: Platform) -> None:
    router = platform.router
    cases = [
        httpx.post(
            f"{router}/v1/rounds",
            content=b"{not json",
            timeout=10,
            headers={"Content-Type": "application/json"},
            auth=platform.as_gateway,
        ),
        _round(platform, "p000002", "no-such-game", 100),
        _round(platform, "p000002", "gonzo-gold", 0),
        httpx.post(
            f"{router}/v1/rounds",
            json={"player_id": "p000002", "game": "gonzo-gold", "bet": 1.5},
            timeout=10,
            auth=platform.as_gateway,
        ),
        httpx.post(
            f"{router}/v1/rounds", content=b"x" * 100_000, timeout=10, auth=platform.as_gateway
        ),
        _round(platform, "p999999", "gonzo-gold", 100),
        _round(platform, "p000002", "gonzo-gold", 10_000_000),
    ]
    statuses = [c.status_code for c in cases]
    assert statuses == [400, 404, 422, 422, 413, 404, 422], [c.text for c in cases]
    assert all("error" in c.json() for c in cases)
    poor = _round(platform, "p000002", "gonzo-gold", BALANCE)
    assert poor.status_code == 200
    broke = _round(platform, "p000002", "gonzo-gold", BALANCE)
    if platform.balance("p000002") < BALANCE:
        assert broke.status_code == 402 and broke.json()["error"]["code"] == "INSUFFICIENT_FUNDS"


def test_a_failing_studio_trips_its_breaker_fails_over_and_closes_after_recovery(
    platform: Platform,
) -> None:
    # Deterministic on purpose: the router ranks healthy studios by a weighted draw, so
    # rounds of a game two studios offer reach a failing one a random number of times.
    # The session's studio is tried first while healthy (the failover), and a game only
    # aurora offers reaches aurora on every round (the breaker's count).
    aurora = platform.provider("aurora")
    launched = httpx.post(
        f"{platform.router}/v1/launch",
        json={"player_id": "p000003", "game": "gonzo-gold"},
        timeout=10,
        auth=platform.as_gateway,
    )
    assert launched.status_code == 200 and launched.json()["provider"] == "aurora"
    on_aurora = launched.json()["session_id"]
    fault = f"{aurora}/control/providers/aurora/faults/down"
    body = {"type": "errors", "rate": 1.0, "status_codes": [503], "expires_in_s": 60}
    put = httpx.put(fault, json=body, timeout=10)
    assert put.status_code == 200 and put.json()["active"] is True
    try:
        session = httpx.post(
            f"{aurora}/v1/launch",
            json={"player_id": "p000003", "game": "starburst-nova"},
            timeout=10,
            auth=platform.as_router,
        )
        assert session.status_code == 503  # the studio itself is down
        moved = _round(platform, "p000003", "starburst-nova", 100, session_id=on_aurora)
        assert moved.status_code == 200, moved.text
        assert moved.json()["provider"] == "blitz" and moved.json()["failover"] is True
        assert platform.metric("router", "router_failovers_total", from_provider="aurora") >= 1
        tries = 0
        while _breaker(platform, "aurora") != "opened":
            tries += 1
            assert tries <= 3, "threshold 3: aurora's breaker should be open by now"
            failed = _round(platform, "p000003", "gonzo-gold", 100)
            assert failed.status_code == 503, failed.text
        assert platform.metric("router", "router_breaker_state", provider="aurora") == 2
        only_aurora = _round(platform, "p000003", "gonzo-gold", 100)
        assert only_aurora.status_code == 503
        assert only_aurora.json()["error"]["code"] == "NO_PROVIDER"
        assert "Retry-After" in only_aurora.headers
        answers = [_round(platform, "p000003", "starburst-nova", 100) for _ in range(6)]
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        assert {a.json()["provider"] for a in answers} == {"blitz"}
    finally:
        assert httpx.delete(fault, timeout=10).status_code == 204
    assert wait_for(
        lambda: _round(platform, "p000003", "gonzo-gold", 100).status_code == 200, 10, 0.3
    )
    assert _breaker(platform, "aurora") == "closed"
    assert platform.metric("router", "router_breaker_state", provider="aurora") == 0


def _breaker(platform: Platform, studio: str) -> str:
    views = {v["provider"]: v for v in httpx.get(f"{platform.router}/v1/providers").json()}
    return str(views[studio]["breaker"])


def test_a_slow_wallet_link_is_retried_with_the_same_tx_id_and_rolled_back(
    platform: Platform,
) -> None:
    require_toxiproxy()
    state = platform.stack.state
    assert state is not None and state.toxiproxy_api is not None
    player = "p000004"
    blitz = platform.provider("blitz")
    retries_before = platform.metric(
        "provider-blitz", "provider_wallet_retries_total", operation="debit"
    )
    with ToxiproxyClient(state.toxiproxy_api) as toxiproxy:
        toxiproxy.add_toxic("provider-blitz-wallet", "latency", {"latency": 1500}, name="slow")
        try:
            body = {"player_id": player, "game": "lightning-roulette-live", "bet": 500}
            answer = httpx.post(
                f"{blitz}/v1/rounds", json=body, timeout=30, auth=platform.as_router
            )
        finally:
            toxiproxy.remove_toxic("provider-blitz-wallet", "slow")
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "WALLET_UNAVAILABLE"
    retries = platform.metric("provider-blitz", "provider_wallet_retries_total", operation="debit")
    assert retries - retries_before == 2  # three attempts with the same tx_id

    def rolled_back() -> bool:
        rows = platform.rows(
            "SELECT status FROM wallet.transactions WHERE player_id = $1 AND kind = 'bet'", player
        )
        return [r["status"] for r in rows] == ["rolled_back"]

    assert wait_for(rolled_back, 15, 0.3), platform.rows(
        "SELECT tx_id, kind, status FROM wallet.transactions WHERE player_id = $1", player
    )
    bets = platform.rows(
        "SELECT count(*) AS n FROM wallet.ledger_entries WHERE player_id = $1 AND kind = 'bet'",
        player,
    )
    assert bets[0]["n"] == 1  # applied once, though sent three times
    assert wait_for(lambda: platform.balance(player) == BALANCE, 10)
