"""Instant rounds on a real stack (resilient profile, Toxiproxy on every link): one wallet
call per slot round, two records and two ledger entries; a slow wallet link is retried with
the same ids, the bet rolled back, and the money ends right whichever way it went."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from spikekit.reference_platform.audit import audit_sync
from spikekit.reference_platform.spec import Profile
from spikekit.toxiproxy.client import ToxiproxyClient
from tests.conftest import require_toxiproxy
from tests.integration.router.conftest import BALANCE, Platform, start_platform, wait_for

pytestmark = pytest.mark.timeout(120)
CALLS = "provider_wallet_call_seconds_count"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from start_platform(Profile.RESILIENT, tmp_path_factory.mktemp("settle") / "stack")


def _calls(platform: Platform, operation: str) -> float:
    return platform.metric("provider-aurora", CALLS, operation=operation)


def _play(platform: Platform, player: str, game: str) -> httpx.Response:
    body = {"player_id": player, "game": game, "bet": 400}
    return httpx.post(
        f"{platform.provider('aurora')}/v1/rounds", json=body, timeout=30, auth=platform.as_router
    )


def test_a_slot_round_is_one_wallet_call_and_a_live_round_two(platform: Platform) -> None:
    before = {op: _calls(platform, op) for op in ("bet-and-settle", "debit", "credit")}
    answer = _play(platform, "p000001", "gonzo-gold")
    assert answer.status_code == 200, answer.text
    spin = answer.json()
    assert spin["settled"] and spin["balance"] == BALANCE - 400 + spin["win"]
    live = _play(platform, "p000002", "blackjack-classic-live")
    assert live.status_code == 200, live.text
    after = {op: _calls(platform, op) for op in before}
    assert {op: after[op] - before[op] for op in after} == {
        "bet-and-settle": 1,
        "debit": 1,
        "credit": 1,
    }
    records = platform.rows(
        "SELECT kind, status, amount FROM wallet.transactions WHERE round_id = $1 ORDER BY kind",
        spin["round_id"],
    )
    assert [(r["kind"], r["status"], r["amount"]) for r in records] == [
        ("bet", "applied", 400),
        ("win", "applied", spin["win"]),
    ]
    assert platform.balance("p000001") == spin["balance"]


def test_a_slow_wallet_link_on_a_slot_round_is_rolled_back_or_stands_never_twice(
    platform: Platform,
) -> None:
    require_toxiproxy()
    state = platform.stack.state
    assert state is not None and state.toxiproxy_api is not None
    player = "p000004"
    retries = "provider_wallet_retries_total"
    before = platform.metric("provider-aurora", retries, operation="bet-and-settle")
    with ToxiproxyClient(state.toxiproxy_api) as toxiproxy:
        toxiproxy.add_toxic("provider-aurora-wallet", "latency", {"latency": 1500}, name="slow")
        try:
            answer = _play(platform, player, "gonzo-gold")
        finally:
            toxiproxy.remove_toxic("provider-aurora-wallet", "slow")
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "WALLET_UNAVAILABLE"
    after = platform.metric("provider-aurora", retries, operation="bet-and-settle")
    assert after - before == 2  # three attempts with the same ids

    def rows() -> dict[str, tuple[str, str]]:
        found = platform.rows(
            "SELECT kind, status, code FROM wallet.transactions WHERE player_id = $1", player
        )
        return {r["kind"]: (r["status"], r["code"]) for r in found}

    # the reconciler's rollback is answered: a refund, or refused because the round stood
    assert wait_for(lambda: "rollback" in rows(), 15, 0.3), rows()
    ledger = platform.rows(
        "SELECT kind, amount FROM wallet.ledger_entries WHERE player_id = $1", player
    )
    kinds = [r["kind"] for r in ledger]
    assert kinds.count("bet") <= 1 and kinds.count("win") <= 1  # never applied twice
    final = rows()
    if final["rollback"] == ("refused", "ROUND_SETTLED"):  # the pair was applied
        assert final["bet"] == ("applied", "OK") and final["win"][0] == "applied"
    else:  # the bet was refunded (or never taken), and no win was paid
        assert "win" not in final and final["rollback"][0] == "applied"
    assert platform.balance(player) == sum(r["amount"] for r in ledger)  # the seed's included
    report = audit_sync(platform.dsn)
    assert report.ok, report.failed()
