"""The wallet's money rules, on plain data."""

from __future__ import annotations

import pytest

from spikekit.reference_platform.wallet.domain import (
    Account,
    Code,
    InvalidAmount,
    RoundState,
    Snapshot,
    TransactionMismatch,
    TxKind,
    TxRecord,
    TxRequest,
    TxStatus,
    WalletError,
    decide,
)

ALICE = Account("p000001", 1_000)


def bet(amount: int = 100, tx: str = "t1", round_id: str = "r1") -> TxRequest:
    return TxRequest(TxKind.BET, "aurora", tx, ALICE.player_id, amount, round_id)


def win(amount: int = 0, tx: str = "w1", round_id: str = "r1") -> TxRequest:
    return TxRequest(TxKind.WIN, "aurora", tx, ALICE.player_id, amount, round_id)


def rollback(original: str = "t1", tx: str = "rb1", round_id: str = "r1") -> TxRequest:
    return TxRequest(
        TxKind.ROLLBACK, "aurora", tx, ALICE.player_id, round_id=round_id, original_tx_id=original
    )


def stored(request: TxRequest, status: TxStatus = TxStatus.APPLIED, balance: int = 900) -> TxRecord:
    return TxRecord(
        request.source,
        request.tx_id,
        request.kind,
        request.player_id,
        request.amount,
        status,
        Code.OK,
        balance,
        request.round_id,
    )


def test_a_bet_takes_the_amount_and_writes_a_negative_entry() -> None:
    decision = decide(bet(100), Snapshot(ALICE))
    assert decision.answer.code is Code.OK
    assert decision.answer.balance == 900
    assert decision.entry is not None and decision.entry.amount == -100
    assert decision.record is not None and decision.record.status is TxStatus.APPLIED


def test_a_bet_over_the_balance_is_a_stored_business_refusal() -> None:
    decision = decide(bet(1_001), Snapshot(ALICE))
    assert decision.answer.code is Code.INSUFFICIENT_FUNDS
    assert decision.answer.balance == 1_000
    assert decision.entry is None
    assert decision.record is not None and decision.record.status is TxStatus.REFUSED


def test_a_bet_of_the_whole_balance_is_allowed() -> None:
    assert decide(bet(1_000), Snapshot(ALICE)).answer.balance == 0


def test_a_repeat_gets_the_stored_answer_and_writes_nothing() -> None:
    first = decide(bet(100), Snapshot(ALICE))
    assert first.record is not None
    again = decide(bet(100), Snapshot(Account(ALICE.player_id, 900), existing=first.record))
    assert not again.writes and again.entry is None
    assert again.answer.replayed
    assert again.answer.balance == first.answer.balance == 900


def test_a_repeat_with_another_amount_is_a_mismatch() -> None:
    with pytest.raises(TransactionMismatch):
        decide(bet(50), Snapshot(ALICE, existing=stored(bet(100))))


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, 10**13])
def test_bet_amounts_are_positive_integers(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        bet(amount)  # type: ignore[arg-type]


def test_a_win_may_be_zero_but_not_negative() -> None:
    assert decide(win(0), Snapshot(ALICE)).entry is None
    with pytest.raises(InvalidAmount):
        win(-5)


def test_a_rollback_needs_the_bet_it_cancels() -> None:
    with pytest.raises(WalletError):
        TxRequest(TxKind.ROLLBACK, "aurora", "rb", "p1", round_id="r1")


def test_a_rollback_refunds_an_applied_bet() -> None:
    decision = decide(rollback(), Snapshot(Account(ALICE.player_id, 900), original=stored(bet())))
    assert decision.answer.amount == 100
    assert decision.answer.balance == 1_000
    assert decision.entry is not None and decision.entry.amount == 100
    assert decision.refunded is not None and decision.refunded.status is TxStatus.ROLLED_BACK


def test_a_rollback_of_an_unseen_bet_leaves_a_tombstone_that_refuses_the_late_bet() -> None:
    decision = decide(rollback(), Snapshot(ALICE))
    assert decision.answer.code is Code.OK and decision.answer.amount == 0
    tombstone = decision.tombstone
    assert tombstone is not None and tombstone.tx_id == "t1"
    late = decide(bet(), Snapshot(ALICE, existing=tombstone))
    assert late.answer.code is Code.TX_ROLLED_BACK
    assert late.answer.balance == 1_000 and not late.writes


def test_a_second_rollback_refunds_nothing() -> None:
    original = stored(bet(), TxStatus.ROLLED_BACK)
    decision = decide(rollback(tx="rb2"), Snapshot(ALICE, original=original))
    assert decision.answer.code is Code.OK and decision.answer.amount == 0
    assert decision.entry is None


def test_a_win_after_the_round_was_rolled_back_is_refused() -> None:
    snapshot = Snapshot(ALICE, round=RoundState(open_bets=0, rolled_back_bets=1))
    decision = decide(win(500), snapshot)
    assert decision.answer.code is Code.ROUND_ROLLED_BACK
    assert decision.entry is None and decision.answer.balance == 1_000


def test_a_rollback_after_the_win_is_refused() -> None:
    snapshot = Snapshot(ALICE, original=stored(bet()), round=RoundState(open_bets=1, wins=1))
    assert decide(rollback(), snapshot).answer.code is Code.ROUND_SETTLED


def test_only_bets_can_be_rolled_back() -> None:
    snapshot = Snapshot(ALICE, original=stored(win(5, tx="t1")))
    assert decide(rollback(), snapshot).answer.code is Code.NOT_ROLLBACKABLE


def test_a_rollback_of_another_players_bet_is_a_mismatch() -> None:
    other = TxRequest(TxKind.BET, "aurora", "t1", "p000002", 100, "r1")
    with pytest.raises(TransactionMismatch):
        decide(rollback(), Snapshot(ALICE, original=stored(other)))


def test_deposits_and_withdrawals_move_money_both_ways() -> None:
    deposit = TxRequest(TxKind.DEPOSIT, "payments", "k1", ALICE.player_id, 500)
    withdrawal = TxRequest(TxKind.WITHDRAWAL, "payments", "k2", ALICE.player_id, 2_000)
    assert decide(deposit, Snapshot(ALICE)).answer.balance == 1_500
    assert decide(withdrawal, Snapshot(ALICE)).answer.code is Code.INSUFFICIENT_FUNDS
