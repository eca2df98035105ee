"""A studio's rounds: an instant round is one bet-and-settle call, a live round holds the bet
(debit, then credit), a call given up on is rolled back; on a scripted pool of the client's
interface (the same stand-in as the wallet client's tests)."""

from __future__ import annotations

import asyncio
import json

import pytest

from spikekit.reference_platform.common.http_client import HttpResponse, RequestTimeout
from spikekit.reference_platform.providers.catalogue import Studio
from spikekit.reference_platform.providers.domain import OutcomeDraw
from spikekit.reference_platform.providers.rounds import (
    InsufficientFunds,
    Reconciler,
    RoundResult,
    Rounds,
    WalletUnavailable,
)
from spikekit.reference_platform.providers.wallet_client import RetryPolicy, SeamlessWallet

from .test_wallet_client import ScriptedPool

STUDIO = Studio("blitz", capacity=8, think_ms=0, jitter_ms=0, rate_limit_rps=None, rtp=0.96)
SLOT, LIVE = "starburst-nova", "lightning-roulette-live"


def answer(code: str = "OK", balance: int = 900) -> HttpResponse:
    status = "ok" if code == "OK" else "refused"
    return HttpResponse(
        200, {}, json.dumps({"status": status, "code": code, "balance": balance}).encode()
    )


def _play(pool: ScriptedPool, game: str, *, bet_and_settle: bool = True) -> RoundResult:
    policy = RetryPolicy(timeout_s=1.0, attempts=2, backoff_s=0.001)
    wallet = SeamlessWallet("blitz", "secret", pool, policy)  # type: ignore[arg-type]
    rounds = Rounds(
        STUDIO,
        wallet,
        OutcomeDraw(7, STUDIO.rtp),
        Reconciler(0.01, 1.0),
        "session-secret",
        bet_and_settle=bet_and_settle,
    )
    return asyncio.run(rounds.play("p1", game, 100))


def _operations(pool: ScriptedPool) -> list[str]:
    return [path.rsplit("/", 1)[1] for path, _, _ in pool.sent]


def test_an_instant_round_is_one_call_with_the_win_decided_before_it() -> None:
    pool = ScriptedPool(answer(balance=1_150))
    result = _play(pool, SLOT)
    assert _operations(pool) == ["bet-and-settle"]
    body = json.loads(pool.sent[0][1])
    assert body["bet"] == 100 and body["win"] == result.win
    assert (body["bet_tx_id"], body["win_tx_id"]) == (result.bet_tx_id, result.win_tx_id)
    assert result.settled and result.balance == 1_150


def test_a_live_round_and_the_switched_off_path_keep_two_calls() -> None:
    pool = ScriptedPool(answer(), answer(balance=1_100))
    assert _play(pool, LIVE).balance == 1_100
    assert _operations(pool) == ["debit", "credit"]
    pool = ScriptedPool(answer(), answer(balance=1_100))
    _play(pool, SLOT, bet_and_settle=False)
    assert _operations(pool) == ["debit", "credit"]


def test_a_refused_bet_is_insufficient_funds() -> None:
    with pytest.raises(InsufficientFunds):
        _play(ScriptedPool(answer("INSUFFICIENT_FUNDS", 50)), SLOT)


def test_a_call_given_up_on_is_retried_with_the_same_bytes_then_rolled_back() -> None:
    slow = RequestTimeout("wallet", "slow")
    pool = ScriptedPool(slow, slow, answer(balance=1_000))
    with pytest.raises(WalletUnavailable, match="rolled back"):
        _play(pool, SLOT)
    assert _operations(pool) == ["bet-and-settle", "bet-and-settle", "rollback"]
    assert pool.sent[0][1] == pool.sent[1][1]
    rollback = json.loads(pool.sent[2][1])
    assert rollback["original_tx_id"] == json.loads(pool.sent[0][1])["bet_tx_id"]


def test_a_round_the_wallet_had_settled_stands_when_its_rollback_is_refused() -> None:
    slow = RequestTimeout("wallet", "slow")
    pool = ScriptedPool(slow, slow, answer("ROUND_SETTLED", 1_150))
    result = _play(pool, SLOT)
    assert result.settled and result.balance == 1_150
