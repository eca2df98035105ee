"""The handlers on a fake unit of work: flows across requests and the fragile profile."""

from __future__ import annotations

import asyncio

import pytest

from spikekit.reference_platform.wallet.domain import Code, TxKind, TxRequest, UnknownPlayer
from spikekit.reference_platform.wallet.service_layer.handlers import Policy, Wallet

from .fakes import FakeStore, FakeUnitOfWork


def wallet(store: FakeStore, profile: str = "resilient") -> Wallet:
    return Wallet(lambda: FakeUnitOfWork(store), Policy.for_profile(profile))


def bet(tx: str, amount: int = 100, round_id: str = "r1") -> TxRequest:
    return TxRequest(TxKind.BET, "blitz", tx, "p1", amount, round_id)


def test_a_retried_bet_is_applied_once() -> None:
    store = FakeStore()
    store.fund("p1", 1_000)
    service = wallet(store)

    async def run() -> None:
        first = await service.execute(bet("t1"))
        second = await service.execute(bet("t1"))
        assert (first.code, first.balance) == (second.code, second.balance) == (Code.OK, 900)
        assert second.replayed

    asyncio.run(run())
    assert len(store.ledger) == 1 and store.accounts["p1"].balance == 900


def test_the_fragile_profile_applies_a_retried_bet_twice() -> None:
    store = FakeStore()
    store.fund("p1", 1_000)
    service = wallet(store, "fragile")

    async def run() -> None:
        await service.execute(bet("t1"))
        await service.execute(bet("t1"))

    asyncio.run(run())
    assert len(store.ledger) == 2 and store.accounts["p1"].balance == 800


def test_rollback_before_bet_then_late_bet_then_win() -> None:
    store = FakeStore()
    store.fund("p1", 1_000)
    service = wallet(store)
    cancel = TxRequest(TxKind.ROLLBACK, "blitz", "rb1", "p1", round_id="r1", original_tx_id="t1")
    late_win = TxRequest(TxKind.WIN, "blitz", "w1", "p1", 300, "r1")

    async def run() -> None:
        assert (await service.execute(cancel)).code is Code.OK
        assert (await service.execute(bet("t1"))).code is Code.TX_ROLLED_BACK
        assert (await service.execute(late_win)).code is Code.ROUND_ROLLED_BACK

    asyncio.run(run())
    assert store.ledger == [] and store.accounts["p1"].balance == 1_000


def test_an_unknown_player_is_an_error_not_an_answer() -> None:
    with pytest.raises(UnknownPlayer):
        asyncio.run(wallet(FakeStore()).execute(bet("t1")))


def test_opening_an_account_is_idempotent() -> None:
    store = FakeStore()
    service = wallet(store)

    async def run() -> tuple[bool, bool]:
        _, first = await service.open_account("p9")
        _, second = await service.open_account("p9")
        return first, second

    assert asyncio.run(run()) == (True, False)
    assert store.accounts["p9"].balance == 0
