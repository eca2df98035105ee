"""Bet and settle: the bet and the win of an instant round decided together (pure rules,
then the handlers on the fake unit of work, batched and not)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikekit.reference_platform.wallet.batch import BatchSnapshot, decide_batch
from spikekit.reference_platform.wallet.domain import (
    Account,
    Answer,
    Code,
    Snapshot,
    TransactionMismatch,
    TxKind,
    TxRecord,
    TxRequest,
    TxStatus,
    WalletError,
)
from spikekit.reference_platform.wallet.service_layer.handlers import Policy, Wallet
from spikekit.reference_platform.wallet.settle import BetAndWin, PairAnswer, decide_pair

from .fakes import FakeStore, FakeUnitOfWork


def pair(n: int, bet: int = 100, win: int = 250, player: str = "p1") -> BetAndWin:
    round_id = f"r{n}"
    return BetAndWin(
        TxRequest(TxKind.BET, "aurora", f"{round_id}-bet", player, bet, round_id),
        TxRequest(TxKind.WIN, "aurora", f"{round_id}-win", player, win, round_id),
    )


def fresh(balance: int) -> Snapshot:
    return Snapshot(Account("p1", balance))


def test_a_taken_bet_is_settled_with_two_records_and_two_entries() -> None:
    decided = decide_pair(pair(1), fresh(1_000), fresh(1_000))
    assert decided.answer.ok and not decided.answer.replayed
    assert decided.answer.last.balance == 1_150
    entries = [d.entry for d in decided.decisions]
    assert [(e.kind, e.amount, e.balance_after) for e in entries if e is not None] == [
        (TxKind.BET, -100, 900),
        (TxKind.WIN, 250, 1_150),
    ]
    assert all(d.record is not None for d in decided.decisions)


def test_a_refused_bet_applies_no_win() -> None:
    decided = decide_pair(pair(1, bet=2_000), fresh(1_000), fresh(1_000))
    assert decided.answer.win is None and not decided.answer.ok
    assert decided.answer.last.code is Code.INSUFFICIENT_FUNDS
    assert len(decided.decisions) == 1 and decided.decisions[0].entry is None


def test_a_lost_round_settles_with_a_zero_win_and_one_entry() -> None:
    decided = decide_pair(pair(1, win=0), fresh(1_000), fresh(1_000))
    assert decided.answer.ok and decided.answer.last.balance == 900
    assert [d.entry is not None for d in decided.decisions] == [True, False]


def test_a_pair_needs_a_bet_and_a_win_of_one_round_with_two_ids() -> None:
    p = pair(1)
    with pytest.raises(WalletError, match="a bet and a win"):
        BetAndWin(p.win, p.bet)
    with pytest.raises(WalletError, match="same player and round"):
        BetAndWin(p.bet, TxRequest(TxKind.WIN, "aurora", "w", "p1", 1, "other"))
    with pytest.raises(WalletError, match="two transaction ids"):
        BetAndWin(p.bet, TxRequest(TxKind.WIN, "aurora", p.bet.tx_id, "p1", 1, "r1"))


def _snapshot(balance: int, *records: TxRecord) -> BatchSnapshot:
    rounds = frozenset(("aurora", f"r{n}", "p1") for n in range(1, 5))
    return BatchSnapshot(
        {"p1": Account("p1", balance)}, {(r.source, r.tx_id): r for r in records}, rounds
    )


def test_in_a_batch_pairs_see_each_other_and_a_repeat_is_a_replay() -> None:
    items = [pair(1, bet=600, win=0), pair(2, bet=600), pair(1, bet=600, win=0)]
    outcomes, writes = decide_batch(items, _snapshot(1_000))
    first, second, repeat = outcomes
    assert isinstance(first, PairAnswer) and first.ok and first.last.balance == 400
    assert isinstance(second, PairAnswer) and second.win is None
    assert second.bet.code is Code.INSUFFICIENT_FUNDS
    assert isinstance(repeat, PairAnswer) and repeat.replayed and repeat.last.balance == 400
    assert [(r.tx_id, r.status) for r in writes.inserts] == [
        ("r1-bet", TxStatus.APPLIED),
        ("r1-win", TxStatus.APPLIED),
        ("r2-bet", TxStatus.REFUSED),
    ]
    assert [e.amount for e in writes.entries] == [-600]  # the zero win moves nothing
    assert dict(writes.balances) == {"p1": 400}


def test_an_error_of_the_win_stores_nothing_of_the_pair() -> None:
    known = TxRecord("aurora", "r1-win", TxKind.WIN, "p1", 999, TxStatus.APPLIED, Code.OK, 5, "r1")
    outcomes, writes = decide_batch([pair(1), pair(2)], _snapshot(1_000, known))
    assert isinstance(outcomes[0], TransactionMismatch)
    assert isinstance(outcomes[1], PairAnswer) and outcomes[1].last.balance == 1_150
    assert {r.tx_id for r in writes.inserts} == {"r2-bet", "r2-win"}


def test_a_bet_rolled_back_before_it_arrived_is_refused_and_no_win_follows() -> None:
    tombstone = TxRecord(
        "aurora",
        "r1-bet",
        TxKind.BET,
        "p1",
        0,
        TxStatus.CANCELLED,
        Code.TX_ROLLED_BACK,
        1_000,
        "r1",
    )
    outcomes, writes = decide_batch([pair(1)], _snapshot(1_000, tombstone))
    answer = outcomes[0]
    assert isinstance(answer, PairAnswer) and answer.win is None
    assert answer.bet.code is Code.TX_ROLLED_BACK and not writes


def test_a_retry_after_the_bet_was_rolled_back_refuses_the_win() -> None:
    refunded = TxRecord(
        "aurora", "r1-bet", TxKind.BET, "p1", 100, TxStatus.ROLLED_BACK, Code.OK, 900, "r1"
    )
    outcomes, writes = decide_batch([pair(1)], _snapshot(1_000, refunded))
    answer = outcomes[0]
    assert isinstance(answer, PairAnswer) and answer.bet.replayed and answer.win is not None
    assert answer.last.code is Code.ROUND_ROLLED_BACK and not writes.entries


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "one unit of work"])
def test_the_handlers_settle_once_under_retries(batched: bool) -> None:
    store = FakeStore()
    store.fund("p1", 1_000)
    wallet = Wallet(lambda: FakeUnitOfWork(store), Policy(batched=batched))

    async def main() -> list[PairAnswer]:
        answers = await asyncio.gather(*(wallet.settle(pair(1)) for _ in range(5)))
        answers.append(await wallet.settle(pair(2, bet=5_000)))
        await wallet.close()
        return list(answers)

    answers = asyncio.run(main())
    assert all(a.ok and a.last.balance == 1_150 for a in answers[:5])
    assert sum(not a.replayed for a in answers[:5]) == 1
    assert answers[5].win is None and answers[5].bet.code is Code.INSUFFICIENT_FUNDS
    assert store.accounts["p1"].balance == 1_150
    assert [(e.tx_id, e.amount) for e in store.ledger] == [("r1-bet", -100), ("r1-win", 250)]
    assert sum(e.amount for e in store.ledger) == 150
    refused = store.records[("aurora", "r2-bet")]
    assert refused.status is TxStatus.REFUSED and ("aurora", "r2-win") not in store.records


def test_the_fragile_profile_applies_a_retried_pair_twice() -> None:
    store = FakeStore()
    store.fund("p1", 1_000)
    wallet = Wallet(lambda: FakeUnitOfWork(store), Policy.for_profile("fragile"))

    async def main() -> None:
        for _ in range(2):
            assert isinstance((await wallet.settle(pair(1))).bet, Answer)

    asyncio.run(main())
    assert store.accounts["p1"].balance == 1_300  # the defect it exists to show
    assert len(store.ledger) == 4


@st.composite
def rounds(draw: st.DrawFn) -> list[BetAndWin]:
    """Pairs on two players, some of them repeated (retries), in any order."""
    pairs = [
        pair(n, draw(st.integers(1, 600)), draw(st.sampled_from([0, 0, 50, 900])), player)
        for n, player in enumerate(draw(st.lists(st.sampled_from(["p1", "p2"]), max_size=12)))
    ]
    repeats = draw(st.lists(st.sampled_from(pairs), max_size=4)) if pairs else []
    return draw(st.permutations(pairs + repeats))


@settings(max_examples=60, deadline=None)
@given(rounds())
def test_a_batch_of_pairs_ends_as_bets_then_wins_sent_one_by_one(items: list[BetAndWin]) -> None:
    """The reference: each pair as a debit, then, if taken, a credit, one after the other."""
    one_by_one, batched = FakeStore(), FakeStore()
    for store in (one_by_one, batched):
        store.fund("p1", 1_000)
        store.fund("p2", 300)
    sequential = Wallet(lambda: FakeUnitOfWork(one_by_one), Policy())
    together = Wallet(lambda: FakeUnitOfWork(batched), Policy(batched=True))

    async def main() -> list[tuple[Code, int]]:
        expected: list[tuple[Code, int]] = []
        for item in items:
            taken = await sequential.execute(item.bet)
            last = await sequential.execute(item.win) if taken.ok else taken
            expected.append((last.code, last.balance))
        answers = await asyncio.gather(*(together.settle(item) for item in items))
        await together.close()
        assert [(a.last.code, a.last.balance) for a in answers] == expected
        return expected

    asyncio.run(main())
    assert batched.accounts == one_by_one.accounts
    assert batched.ledger == one_by_one.ledger
    assert batched.records == one_by_one.records
