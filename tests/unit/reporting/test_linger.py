"""Reporting lingers after a short batch, so that the events of that moment share one
transaction; a full batch is followed at once by the next (a backlog is not slowed)."""

from __future__ import annotations

import asyncio

from spikekit.reference_platform.payments.service_layer.consumer import (
    ConsumerConfig as PaymentsConsumerConfig,
)
from spikekit.reference_platform.reporting.bootstrap import consumer_config
from spikekit.reference_platform.reporting.service_layer.consumer import (
    ConsumerConfig,
    EventConsumer,
)
from spikekit.reference_platform.reporting.settings import ReportingSettings
from tests.unit.fake_clock import FakeClock, until
from tests.unit.reporting.fakes import FakeStream, FakeUnitOfWork, Tables

T0 = 1_800_000_000.0


def _bet(stream: FakeStream, n: int) -> None:
    stream.publish(
        event_id=f"aurora:b{n}", type="bet", player_id=f"p{n}", amount=-100, ts=T0, round_id="r"
    )


def test_events_arriving_while_it_lingers_share_the_next_transaction() -> None:
    tables, stream, clock = Tables(), FakeStream(), FakeClock()
    config = ConsumerConfig(consumer="c", batch=10, linger_s=0.25)
    consumer = EventConsumer(stream, lambda: FakeUnitOfWork(tables), config, clock=clock)
    _bet(stream, 1)

    async def scenario() -> None:
        task = asyncio.create_task(consumer.run())
        await until(lambda: tables.commits == 1 and clock.sleeping)  # a short batch: lingers
        assert clock.slept[-1] == 0.25
        for n in range(2, 6):  # arrive while it lingers
            _bet(stream, n)
        await asyncio.sleep(0.02)
        assert tables.commits == 1  # nothing read before the linger ends
        await clock.advance(0.25)
        await until(lambda: len(stream.acked) == 5)
        consumer.stop()
        await clock.advance(0.25)
        await asyncio.wait_for(task, 2)

    asyncio.run(scenario())
    assert tables.commits == 2  # five events, two transactions


def test_a_full_batch_is_followed_by_the_next_without_lingering() -> None:
    tables, stream, clock = Tables(), FakeStream(), FakeClock()
    config = ConsumerConfig(consumer="c", batch=2, linger_s=5.0)
    consumer = EventConsumer(stream, lambda: FakeUnitOfWork(tables), config, clock=clock)
    for n in range(4):
        _bet(stream, n)

    async def scenario() -> None:
        task = asyncio.create_task(consumer.run())
        await until(lambda: len(stream.acked) == 4)  # two full batches, no clock advanced
        await asyncio.sleep(0.05)  # an empty read follows: idle, not a short batch
        assert clock.slept == []
        consumer.stop()
        await clock.advance(5.0)
        await asyncio.wait_for(task, 2)

    asyncio.run(scenario())
    assert tables.commits == 2


def test_the_linger_is_a_setting_and_payments_workers_do_not_linger() -> None:
    assert consumer_config(ReportingSettings(reporting_linger_ms=100)).linger_s == 0.1
    assert consumer_config(ReportingSettings()).linger_s == 0.25
    assert PaymentsConsumerConfig(consumer="w").linger_s == 0  # a deposit waits for nobody
