"""The batcher: requests arriving together share one unit of work; each caller gets its own
answer, a failing batch fails each of its callers, and nothing is half-written."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from spikekit.reference_platform.wallet.batch import Outcome
from spikekit.reference_platform.wallet.domain import (
    Answer,
    Code,
    TransactionMismatch,
    TxKind,
    TxRequest,
    UnknownPlayer,
)
from spikekit.reference_platform.wallet.service_layer.batcher import BatchConfig, Batcher
from spikekit.reference_platform.wallet.service_layer.handlers import Policy, Wallet
from spikekit.reference_platform.wallet.service_layer.unit_of_work import WalletUnavailable

from .fakes import FakeStore, FakeUnitOfWork


def bet(tx: str, amount: int = 100, player: str = "p1") -> TxRequest:
    return TxRequest(TxKind.BET, "blitz", tx, player, amount, f"round-{tx}")


def batched(store: FakeStore, **config: float) -> Wallet:
    return Wallet(
        lambda: FakeUnitOfWork(store),
        Policy(batched=True),
        batching=BatchConfig(**config),  # type: ignore[arg-type]
    )


def funded(**balances: int) -> FakeStore:
    store = FakeStore()
    for player, balance in balances.items():
        store.fund(player, balance)
    return store


async def settle(wallet: Wallet, requests: Sequence[TxRequest]) -> list[object]:
    return await asyncio.gather(*(wallet.execute(r) for r in requests), return_exceptions=True)


def test_requests_arriving_together_share_one_commit() -> None:
    store = funded(p1=1_000, p2=1_000)
    wallet = batched(store)
    requests = [bet(f"t{i}", 100, f"p{1 + i % 2}") for i in range(12)]
    answers = asyncio.run(settle(wallet, requests))
    assert all(isinstance(a, Answer) and a.code is Code.OK for a in answers)
    assert store.commits == 1
    assert wallet.batcher is not None and wallet.batcher.batches == 1
    assert store.accounts["p1"].balance == store.accounts["p2"].balance == 400
    # in arrival order: p1's bets leave 900, 800, ... 400
    assert [a.balance for a in answers[::2] if isinstance(a, Answer)] == [
        900,
        800,
        700,
        600,
        500,
        400,
    ]


def test_a_full_batch_leaves_at_once_and_the_rest_follows() -> None:
    store = funded(p1=10_000)
    wallet = batched(store, max_size=5, max_inflight=1)
    answers = asyncio.run(settle(wallet, [bet(f"t{i}") for i in range(12)]))
    assert all(isinstance(a, Answer) for a in answers)
    assert wallet.batcher is not None and wallet.batcher.batches == 3  # 5 + 5 + 2
    assert store.accounts["p1"].balance == 8_800


def test_each_caller_gets_its_own_refusal_or_error() -> None:
    store = funded(p1=150)
    wallet = batched(store)
    answers = asyncio.run(
        settle(wallet, [bet("t1"), bet("t2"), bet("t3", player="ghost"), bet("t1", 5)])
    )
    first, second, ghost, mismatch = answers
    assert isinstance(first, Answer) and first.code is Code.OK
    assert isinstance(second, Answer) and second.code is Code.INSUFFICIENT_FUNDS
    assert isinstance(ghost, UnknownPlayer)
    assert isinstance(mismatch, TransactionMismatch)
    assert store.accounts["p1"].balance == 50 and len(store.ledger) == 1


def test_a_storage_failure_fails_every_caller_of_the_batch_and_writes_nothing() -> None:
    store = funded(p1=1_000, p2=1_000)
    store.fail_saves = True
    wallet = batched(store)
    answers = asyncio.run(settle(wallet, [bet(f"t{i}", player=f"p{1 + i % 2}") for i in range(8)]))
    assert all(isinstance(a, WalletUnavailable) for a in answers)
    assert len({id(a) for a in answers}) == 8  # each caller its own exception
    assert store.records == {} and store.ledger == [] and store.commits == 0
    store.fail_saves = False  # the retry with the same ids is safe
    retried = asyncio.run(settle(wallet, [bet(f"t{i}", player=f"p{1 + i % 2}") for i in range(8)]))
    assert all(isinstance(a, Answer) and not a.replayed for a in retried)
    assert store.accounts["p1"].balance == 600


def test_a_window_gathers_requests_arriving_a_little_apart() -> None:
    store = funded(p1=10_000)
    wallet = batched(store, window_s=0.05)

    async def staggered() -> None:
        async def later(i: int) -> Answer:
            await asyncio.sleep(0.002 * i)
            return await wallet.execute(bet(f"t{i}"))

        await asyncio.gather(*(later(i) for i in range(5)))

    asyncio.run(staggered())
    assert wallet.batcher is not None and wallet.batcher.batches == 1


def test_a_closed_batcher_refuses_new_requests() -> None:
    async def apply(requests: Sequence[TxRequest]) -> list[Outcome]:
        raise AssertionError("never called")

    batcher = Batcher(apply)

    async def run() -> None:
        await batcher.close()
        with pytest.raises(WalletUnavailable):
            await batcher.submit(bet("t1"))

    asyncio.run(run())


def test_the_fragile_profile_never_batches() -> None:
    assert not Policy.for_profile("fragile", batched=True).batched
    assert Policy.for_profile("resilient", batched=True).batched


def test_an_optimistic_batch_that_finds_an_account_moved_is_redone_under_locks() -> None:
    store = funded(p1=1_000)
    store.stale_saves = 1
    wallet = Wallet(
        lambda: FakeUnitOfWork(store),
        Policy(batched=True),
        optimistic=lambda: FakeUnitOfWork(store),
    )
    answers = asyncio.run(settle(wallet, [bet("t1"), bet("t2"), bet("t1")]))
    assert [a.balance for a in answers if isinstance(a, Answer)] == [900, 800, 900]
    assert store.batch_loads == [False, True]  # optimistic, then locked
    assert store.commits == 1 and len(store.ledger) == 2
