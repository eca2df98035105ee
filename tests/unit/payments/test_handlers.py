"""The payment handlers on fakes: idempotent submission, backpressure, exactly-once processing."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from spikekit.reference_platform.payments.domain import (
    IdempotencyMismatch,
    Kind,
    Stage,
    Unavailable,
)
from spikekit.reference_platform.payments.service_layer.handlers import (
    NotFound,
    Payments,
    QueueFull,
)
from spikekit.reference_platform.payments.settings import PaymentsSettings, Policy
from tests.unit.payments.fakes import FakeProvider, FakeStore, FakeWallet


def _payments(policy: Policy | None = None, max_depth: int = 100) -> Payments:
    return Payments(
        store=FakeStore(),
        wallet=FakeWallet(balances={"p1": 1_000}),
        provider=FakeProvider(),
        policy=policy or Policy(),
        max_queue_depth=max_depth,
        clock=lambda: 100.0,
    )


def _store(payments: Payments) -> FakeStore:
    assert isinstance(payments.store, FakeStore)
    return payments.store


def _wallet(payments: Payments) -> FakeWallet:
    assert isinstance(payments.wallet, FakeWallet)
    return payments.wallet


def test_submit_records_and_queues_and_a_repeated_key_returns_the_original() -> None:
    payments = _payments()

    async def scenario() -> None:
        first = await payments.submit(Kind.DEPOSIT, "p1", 500, "k1")
        again = await payments.submit(Kind.DEPOSIT, "p1", 500, "k1")
        assert not first.replayed and again.replayed
        assert again.payment.payment_id == first.payment.payment_id
        assert first.payment.payment_id.startswith("dep-")
        assert _store(payments).queued == [first.payment.payment_id]
        other_player = await payments.submit(Kind.DEPOSIT, "p2", 500, "k1")
        as_withdrawal = await payments.submit(Kind.WITHDRAWAL, "p1", 500, "k1")
        assert not other_player.replayed and not as_withdrawal.replayed
        with pytest.raises(IdempotencyMismatch):
            await payments.submit(Kind.DEPOSIT, "p1", 501, "k1")

    asyncio.run(scenario())


def test_a_full_queue_refuses_new_payments_but_still_answers_known_keys() -> None:
    payments = _payments(max_depth=1)

    async def scenario() -> None:
        first = await payments.submit(Kind.DEPOSIT, "p1", 500, "k1")
        with pytest.raises(QueueFull) as refused:
            await payments.submit(Kind.DEPOSIT, "p1", 500, "k2")
        assert refused.value.retry_after_s == payments.retry_after_s
        again = await payments.submit(Kind.DEPOSIT, "p1", 500, "k1")
        assert again.payment.payment_id == first.payment.payment_id

    asyncio.run(scenario())
    unbounded = _payments(Policy(backpressure=False), max_depth=1)
    asyncio.run(unbounded.submit(Kind.DEPOSIT, "p1", 1, "a"))
    asyncio.run(unbounded.submit(Kind.DEPOSIT, "p1", 1, "b"))


def test_processing_twice_moves_the_money_once() -> None:
    payments = _payments()

    async def scenario() -> None:
        submitted = await payments.submit(Kind.DEPOSIT, "p1", 500, "k1")
        payment_id = submitted.payment.payment_id
        done = await payments.process(payment_id)
        again = await payments.process(payment_id)
        assert done is not None and again == done
        assert (done.stage, done.balance) == (Stage.COMPLETED, 1_500)
        assert _wallet(payments).balances["p1"] == 1_500
        assert _wallet(payments).calls == [("deposit", payment_id)]

    asyncio.run(scenario())


def test_a_crash_after_the_wallet_call_is_repaired_by_the_retry_without_a_second_credit() -> None:
    payments = _payments()
    store, wallet = _store(payments), _wallet(payments)

    async def scenario() -> None:
        submitted = await payments.submit(Kind.DEPOSIT, "p1", 500, "k1")
        payment_id = submitted.payment.payment_id
        # the crashed worker charged, stored "authorized", credited -- and died
        store.payments[payment_id] = replace(submitted.payment, stage=Stage.AUTHORIZED)
        await wallet.deposit("p1", payment_id, 500)
        done = await payments.process(payment_id)
        assert done is not None and done.stage is Stage.COMPLETED
        assert wallet.balances["p1"] == 1_500 and wallet.applied == [payment_id]

    asyncio.run(scenario())


def test_concurrent_runners_of_one_payment_finish_it_once() -> None:
    payments = _payments()

    async def scenario() -> None:
        submitted = await payments.submit(Kind.WITHDRAWAL, "p1", 400, "k1")
        payment_id = submitted.payment.payment_id
        results = await asyncio.gather(*(payments.process(payment_id) for _ in range(5)))
        assert {r.stage for r in results if r is not None} == {Stage.COMPLETED}
        assert _wallet(payments).balances["p1"] == 600

    asyncio.run(scenario())


def test_refusals_end_failed_with_the_reason() -> None:
    payments = _payments()

    async def scenario() -> None:
        short = await payments.submit(Kind.WITHDRAWAL, "p1", 5_000, "k1")
        nobody = await payments.submit(Kind.DEPOSIT, "ghost", 5, "k2")
        for submitted, reason in ((short, "INSUFFICIENT_FUNDS"), (nobody, "UNKNOWN_PLAYER")):
            done = await payments.process(submitted.payment.payment_id)
            assert done is not None and (done.stage, done.reason) == (Stage.FAILED, reason)
        assert _wallet(payments).balances["p1"] == 1_000

    asyncio.run(scenario())


def test_a_declined_payout_gives_the_money_back() -> None:
    payments = _payments()

    async def scenario() -> None:
        submitted = await payments.submit(Kind.WITHDRAWAL, "p1", 300, "k1")
        payment_id = submitted.payment.payment_id
        assert isinstance(payments.provider, FakeProvider)
        payments.provider.declines.add(payment_id)
        done = await payments.process(payment_id)
        assert done is not None and (done.stage, done.reason) == (Stage.FAILED, "PROVIDER_DECLINED")
        assert _wallet(payments).balances["p1"] == 1_000
        assert _wallet(payments).applied == [payment_id, payment_id + ".refund"]

    asyncio.run(scenario())


def test_an_unavailable_wallet_leaves_the_payment_where_it_was() -> None:
    payments = _payments()
    _wallet(payments).down = True

    async def scenario() -> None:
        submitted = await payments.submit(Kind.DEPOSIT, "p1", 500, "k1")
        with pytest.raises(Unavailable):
            await payments.process(submitted.payment.payment_id)
        stored = await payments.get(Kind.DEPOSIT, submitted.payment.payment_id)
        assert stored.stage is Stage.AUTHORIZED
        with pytest.raises(NotFound):
            await payments.get(Kind.WITHDRAWAL, submitted.payment.payment_id)

    asyncio.run(scenario())


def test_without_the_queue_the_caller_waits_for_the_final_status() -> None:
    payments = _payments(Policy(queued=False))

    async def scenario() -> None:
        submitted = await payments.submit(Kind.DEPOSIT, "p1", 500, "k1")
        assert submitted.payment.stage is Stage.COMPLETED
        assert _store(payments).queued == []

    asyncio.run(scenario())


def test_each_mechanism_follows_the_profile_unless_set() -> None:
    assert PaymentsSettings().policy == Policy(queued=True, reclaim=True, backpressure=True)
    fragile = PaymentsSettings(profile="fragile")
    assert fragile.policy == Policy(queued=False, reclaim=False, backpressure=False)
    mixed = PaymentsSettings(profile="fragile", payments_queued=True)
    assert mixed.policy == Policy(queued=True, reclaim=False, backpressure=False)
    urls = PaymentsSettings(wallet_urls="http://a:1/, http://b:2").wallet_base_urls
    assert urls == ["http://a:1", "http://b:2"]
