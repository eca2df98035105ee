"""Deciding a batch: the same answers as one request after the other, in arrival order."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from spikekit.reference_platform.wallet.batch import BatchSnapshot, decide_batch
from spikekit.reference_platform.wallet.domain import (
    Account,
    Answer,
    Code,
    TransactionMismatch,
    TxKind,
    TxRecord,
    TxRequest,
    TxStatus,
    UnknownPlayer,
)
from spikekit.reference_platform.wallet.service_layer.handlers import Policy, Wallet

from .fakes import FakeStore, FakeUnitOfWork


def bet(tx: str, amount: int = 100, player: str = "p1", round_id: str = "r1") -> TxRequest:
    return TxRequest(TxKind.BET, "aurora", tx, player, amount, round_id)


def win(tx: str, amount: int, player: str = "p1", round_id: str = "r1") -> TxRequest:
    return TxRequest(TxKind.WIN, "aurora", tx, player, amount, round_id)


def cancel(tx: str, original: str, player: str = "p1", round_id: str = "r1") -> TxRequest:
    return TxRequest(
        TxKind.ROLLBACK, "aurora", tx, player, round_id=round_id, original_tx_id=original
    )


def empty(**balances: int) -> BatchSnapshot:
    accounts = {player: Account(player, balance) for player, balance in balances.items()}
    return BatchSnapshot(accounts, {}, frozenset({("aurora", "r1", "p1"), ("aurora", "r2", "p1")}))


def test_bets_on_one_account_see_each_other() -> None:
    outcomes, writes = decide_batch([bet("t1", 600), bet("t2", 600)], empty(p1=1_000))
    assert isinstance(outcomes[0], Answer) and isinstance(outcomes[1], Answer)
    assert (outcomes[0].code, outcomes[0].balance) == (Code.OK, 400)
    assert (outcomes[1].code, outcomes[1].balance) == (Code.INSUFFICIENT_FUNDS, 400)
    assert dict(writes.balances) == {"p1": 400}
    assert [r.status for r in writes.inserts] == [TxStatus.APPLIED, TxStatus.REFUSED]


def test_a_repeated_id_in_one_batch_gets_the_first_answer_as_a_replay() -> None:
    outcomes, writes = decide_batch([bet("t1"), bet("t1"), bet("t1")], empty(p1=1_000))
    first, *repeats = outcomes
    assert isinstance(first, Answer) and not first.replayed
    assert repeats == [replace(first, replayed=True)] * 2
    assert len(writes.inserts) == 1 and len(writes.entries) == 1


def test_a_rollback_of_a_bet_of_the_same_batch_stores_the_bet_rolled_back() -> None:
    requests = [bet("t1", 300), cancel("c1", "t1"), win("w1", 500)]
    outcomes, writes = decide_batch(requests, empty(p1=1_000))
    assert [o.code for o in outcomes if isinstance(o, Answer)] == [
        Code.OK,
        Code.OK,
        Code.ROUND_ROLLED_BACK,
    ]
    stored = {r.tx_id: r.status for r in writes.inserts}
    assert stored == {"t1": TxStatus.ROLLED_BACK, "c1": TxStatus.APPLIED, "w1": TxStatus.REFUSED}
    assert writes.rolled_back == []  # nothing stored before the batch changes
    assert [e.amount for e in writes.entries] == [-300, 300]
    assert dict(writes.balances) == {"p1": 1_000}


def test_a_rollback_of_a_stored_bet_updates_it() -> None:
    stored = TxRecord("aurora", "t0", TxKind.BET, "p1", 200, TxStatus.APPLIED, Code.OK, 800, "r1")
    snapshot = replace(empty(p1=800), records={("aurora", "t0"): stored})
    outcomes, writes = decide_batch([cancel("c0", "t0")], snapshot)
    assert isinstance(outcomes[0], Answer) and outcomes[0].balance == 1_000
    assert [(r.tx_id, r.status) for r in writes.rolled_back] == [("t0", TxStatus.ROLLED_BACK)]


def test_one_bad_request_does_not_fail_the_others() -> None:
    requests = [bet("t1"), bet("t2", player="ghost"), bet("t1", 999), bet("t3")]
    outcomes, writes = decide_batch(requests, empty(p1=1_000))
    assert isinstance(outcomes[1], UnknownPlayer)
    assert isinstance(outcomes[2], TransactionMismatch)
    assert [o.balance for o in outcomes if isinstance(o, Answer)] == [900, 800]
    assert dict(writes.balances) == {"p1": 800}


def test_a_batch_of_replays_writes_nothing() -> None:
    stored = TxRecord("aurora", "t0", TxKind.BET, "p1", 200, TxStatus.APPLIED, Code.OK, 800, "r1")
    snapshot = replace(empty(p1=800), records={("aurora", "t0"): stored})
    outcomes, writes = decide_batch([bet("t0", 200)], snapshot)
    assert isinstance(outcomes[0], Answer) and outcomes[0].replayed
    assert not writes


PLAYERS = ("p1", "p2")
requests = st.one_of(
    st.builds(
        bet,
        tx=st.sampled_from(["b1", "b2", "b3"]),
        amount=st.integers(1, 700),
        player=st.sampled_from(PLAYERS),
        round_id=st.sampled_from(["r1", "r2"]),
    ),
    st.builds(
        win,
        tx=st.sampled_from(["w1", "w2"]),
        amount=st.integers(0, 900),
        player=st.sampled_from(PLAYERS),
        round_id=st.sampled_from(["r1", "r2"]),
    ),
    st.builds(
        cancel,
        tx=st.sampled_from(["c1", "c2"]),
        original=st.sampled_from(["b1", "b2", "b3", "w1"]),
        player=st.sampled_from(PLAYERS),
        round_id=st.sampled_from(["r1", "r2"]),
    ),
)


def outcome_key(outcome: object) -> object:
    return outcome if isinstance(outcome, Answer) else type(outcome)


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(requests, max_size=6),
    batch=st.lists(requests, min_size=1, max_size=12),
)
def test_a_batch_answers_as_its_requests_one_after_the_other(
    before: list[TxRequest], batch: list[TxRequest]
) -> None:
    """The batched wallet and the unbatched one, on the same history, agree on everything."""

    def funded() -> FakeStore:
        store = FakeStore()
        store.fund("p1", 1_000)
        store.fund("p2", 300)
        return store

    async def run(store: FakeStore, batched: bool) -> list[object]:
        one_by_one = Wallet(lambda: FakeUnitOfWork(store), Policy())
        for request in before:
            with contextlib.suppress(UnknownPlayer, TransactionMismatch):
                await one_by_one.execute(request)
        if batched:
            return list(await one_by_one.execute_batch(batch))
        outcomes: list[object] = []
        for request in batch:
            try:
                outcomes.append(await one_by_one.execute(request))
            except (UnknownPlayer, TransactionMismatch) as error:
                outcomes.append(error)
        return outcomes

    sequential, batched = funded(), funded()
    expected = asyncio.run(run(sequential, batched=False))
    got = asyncio.run(run(batched, batched=True))
    assert [outcome_key(o) for o in got] == [outcome_key(o) for o in expected]
    assert batched.accounts == sequential.accounts
    assert batched.records == sequential.records
    assert batched.ledger == sequential.ledger
