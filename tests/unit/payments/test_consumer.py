"""The worker's consumer loop on fakes: ack after the end, reclaim of a dead worker's entries."""

from __future__ import annotations

import asyncio

from spikekit.reference_platform.payments.domain import Kind, Stage
from spikekit.reference_platform.payments.service_layer.consumer import Consumer, ConsumerConfig
from spikekit.reference_platform.payments.service_layer.handlers import Payments
from spikekit.reference_platform.payments.service_layer.ports import Telemetry
from tests.unit.fake_clock import FakeClock, until
from tests.unit.payments.fakes import FakeProvider, FakeQueue, FakeStore, FakeWallet


class Counting(Telemetry):
    def __init__(self) -> None:
        self.reclaimed_entries = 0
        self.finished_ids: list[str] = []

    def reclaimed(self, entries: int) -> None:
        self.reclaimed_entries += entries

    def finished(self, payment: object, processing_s: float) -> None:
        self.finished_ids.append(getattr(payment, "payment_id", ""))


def _world(players: int = 10) -> tuple[Payments, FakeQueue, FakeWallet]:
    store = FakeStore()
    wallet = FakeWallet(balances={f"p{n}": 0 for n in range(players)})
    payments = Payments(store=store, wallet=wallet, provider=FakeProvider())
    return payments, FakeQueue(store), wallet


def _consumer(
    name: str, payments: Payments, queue: FakeQueue, clock: FakeClock, *, reclaim: bool = True
) -> tuple[Consumer, Counting]:
    telemetry = Counting()
    config = ConsumerConfig(consumer=name, batch=4, reclaim=reclaim, reclaim_idle_ms=2_000)
    return Consumer(queue, payments, config, telemetry, clock=clock), telemetry


def _submit(payments: Payments, count: int) -> list[str]:
    async def submit() -> list[str]:
        return [
            (await payments.submit(Kind.DEPOSIT, f"p{n}", 100, f"k{n}")).payment.payment_id
            for n in range(count)
        ]

    return asyncio.run(submit())


def test_entries_are_acknowledged_once_their_payment_is_final() -> None:
    payments, queue, wallet = _world()
    clock = FakeClock()
    consumer, telemetry = _consumer("w-a", payments, queue, clock)
    payments.telemetry = telemetry  # processing reports there too
    ids = _submit(payments, 6)
    assert asyncio.run(consumer.step()) == 4
    assert asyncio.run(consumer.step()) == 2
    assert asyncio.run(queue.depth()) == 0 and asyncio.run(queue.pending()) == 0
    assert sorted(telemetry.finished_ids) == sorted(ids)
    assert sum(wallet.balances.values()) == 600


def test_a_dead_workers_entries_are_reclaimed_once_idle_and_applied_once() -> None:
    payments, queue, wallet = _world()
    clock = FakeClock()
    ids = _submit(payments, 4)
    # the doomed worker took a batch, its wallet credits went through, then it died
    taken = asyncio.run(queue.read("w-dead", 4, 0))
    for entry in taken[:2]:
        assert entry.payment_id is not None
        asyncio.run(payments.process(entry.payment_id))
    assert len(queue.held_by("w-dead")) == 4

    survivor, telemetry = _consumer("w-alive", payments, queue, clock)
    clock.t = queue.now = 1.0  # not idle long enough yet
    assert asyncio.run(survivor.step()) == 0
    clock.t = queue.now = 3.0
    assert asyncio.run(survivor.step()) == 4
    assert telemetry.reclaimed_entries == 4
    assert queue.held_by("w-dead") == []
    assert all(payments.store.payments[i].stage is Stage.COMPLETED for i in ids)  # type: ignore[attr-defined]
    assert sorted(wallet.applied) == sorted(ids)
    assert sum(wallet.balances.values()) == 400


def test_without_reclaim_a_dead_workers_entries_stay_pending() -> None:
    payments, queue, wallet = _world()
    clock = FakeClock()
    ids = _submit(payments, 3)
    asyncio.run(queue.read("w-dead", 3, 0))
    survivor, telemetry = _consumer("w-alive", payments, queue, clock, reclaim=False)
    clock.t = queue.now = 60.0
    assert asyncio.run(survivor.step()) == 0
    assert telemetry.reclaimed_entries == 0
    assert len(queue.held_by("w-dead")) == 3
    assert all(payments.store.payments[i].stage is Stage.PENDING for i in ids)  # type: ignore[attr-defined]
    assert wallet.applied == []


def test_a_wallet_outage_keeps_entries_pending_and_they_are_retried() -> None:
    payments, queue, wallet = _world()
    clock = FakeClock()
    consumer, _ = _consumer("w-a", payments, queue, clock, reclaim=False)
    ids = _submit(payments, 2)
    wallet.down = True
    assert asyncio.run(consumer.step()) == 0
    assert len(queue.held_by("w-a")) == 2
    wallet.down = False
    assert asyncio.run(consumer.step()) == 2  # its own pending entries first
    assert sorted(wallet.applied) == sorted(ids)
    assert asyncio.run(queue.pending()) == 0


class Outages(Counting):
    def __init__(self) -> None:
        super().__init__()
        self.outages: list[str] = []

    def unavailable(self, dependency: str) -> None:
        self.outages.append(dependency)


def test_an_outage_backs_off_with_jittered_capped_waits_then_the_loop_goes_on() -> None:
    payments, queue, wallet = _world()
    clock = FakeClock()
    telemetry = Outages()
    config = ConsumerConfig(consumer="w-a", batch=4, backoff_max_s=0.4)
    consumer = Consumer(queue, payments, config, telemetry, clock=clock)
    ids = _submit(payments, 2)
    queue.down = True

    async def scenario() -> None:
        task = asyncio.create_task(consumer.run())
        for attempt in range(8):
            await until(lambda: clock.sleeping)
            assert len(telemetry.outages) == attempt + 1
            queue.down = attempt < 7  # back after the eighth failure
            await clock.advance(config.backoff_max_s)
        await until(lambda: sorted(wallet.applied) == sorted(ids))
        consumer.stop()
        await clock.advance(config.backoff_max_s)
        await asyncio.wait_for(task, 2)

    asyncio.run(scenario())
    assert telemetry.outages == ["redis"] * 8
    waits = clock.slept[:8]
    ceilings = [min(0.05 * 2**n, config.backoff_max_s) for n in range(8)]
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True))
    assert len(set(waits)) == 8  # jittered: no two consumers wait alike
    assert asyncio.run(queue.pending()) == 0


def test_a_batch_left_pending_pauses_the_loop_before_its_own_entries_again() -> None:
    payments, queue, wallet = _world()
    clock = FakeClock()
    consumer, _ = _consumer("w-a", payments, queue, clock, reclaim=False)
    ids = _submit(payments, 2)
    wallet.down = True

    async def scenario() -> None:
        task = asyncio.create_task(consumer.run())
        await until(lambda: clock.sleeping)
        assert clock.slept == [consumer.config.retry_pause_s]
        assert len(queue.held_by("w-a")) == 2
        wallet.down = False
        await clock.advance(consumer.config.retry_pause_s)
        await until(lambda: sorted(wallet.applied) == sorted(ids))
        consumer.stop()
        await asyncio.wait_for(task, 2)

    asyncio.run(scenario())
    assert asyncio.run(queue.pending()) == 0
