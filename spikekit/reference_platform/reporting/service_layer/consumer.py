"""Reporting's loop: read wallet events as a consumer group, add them up, acknowledge.

One batch is one transaction: the event ids are remembered, the players of each
minute recorded, the per-minute totals upserted — then the entries are
acknowledged. A crash between the commit and the acknowledgement re-delivers
the batch, and the remembered ids keep it from being counted twice. Nothing
here is ever awaited by the wallet: when reporting is slow or stopped, the
stream simply grows and the lag gauges say by how much.

The loop (batches, reclaim, acknowledgement, backoff with jitter) is the one payments
uses too: :mod:`spikekit.reference_platform.common.stream_consumer`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from spikekit.reference_platform.common.clock import MONOTONIC, Clock
from spikekit.reference_platform.common.stream_consumer import (
    Handled,
    StreamConsumer,
    StreamConsumerConfig,
)
from spikekit.reference_platform.reporting.domain import BadEvent, WalletEvent, summarize
from spikekit.reference_platform.reporting.service_layer.ports import (
    AbstractEventStream,
    AbstractUnitOfWork,
    StreamEntry,
    Telemetry,
    Unavailable,
)

log = logging.getLogger(__name__)
UnitOfWorkFactory = Callable[[], AbstractUnitOfWork]


@dataclass(frozen=True)
class BatchResult:
    read: int
    counted: int  # events added to the aggregates
    duplicates: int  # already counted (the outbox publishes at least once)
    bad: int  # unreadable entries, skipped


async def count_events(uow: UnitOfWorkFactory, entries: list[StreamEntry]) -> BatchResult:
    """Add a batch of stream entries to the aggregates, in one transaction."""
    events: list[WalletEvent] = []
    bad = 0
    for entry in entries:
        try:
            events.append(WalletEvent.parse(entry.fields))
        except BadEvent as error:
            bad += 1
            log.warning("skipping stream entry %s: %s", entry.entry_id, error)
    if not events:
        return BatchResult(len(entries), 0, 0, bad)
    async with uow() as work:
        fresh = await work.remember(sorted({e.event_id for e in events}))
        summary = summarize(e for e in events if e.event_id in fresh)
        summary.count_new_players(await work.add_players(summary.players))
        await work.add(summary.minutes)
        await work.commit()
    return BatchResult(len(entries), len(fresh), len(events) - len(fresh), bad)


@dataclass(frozen=True, kw_only=True)
class ConsumerConfig(StreamConsumerConfig):
    """``consumer`` is ``reporting-<replica>``: stable, so a restart finds its own pending
    entries first (``own_first``)."""

    batch: int = 500
    reclaim_idle_ms: int = 30_000
    reclaim_interval_s: float = 5.0
    backoff_max_s: float = 2.0
    own_first: bool = True


class EventConsumer:
    """Reporting's consumer: ``run()`` until ``stop()``; a batch is counted, then acked."""

    def __init__(
        self,
        stream: AbstractEventStream,
        uow: UnitOfWorkFactory,
        config: ConsumerConfig,
        telemetry: Telemetry | None = None,
        clock: Clock = MONOTONIC,
    ) -> None:
        self.stream = stream
        self.uow = uow
        self.config = config
        self.telemetry = telemetry or Telemetry()
        self.loop = StreamConsumer(
            stream,
            self._count,
            config,
            self.telemetry,
            unavailable=Unavailable,
            log=log,
            label="reporting consumer",
            clock=clock,
            on_acked=self._counted,
        )

    def stop(self) -> None:
        self.loop.stop()

    async def run(self) -> None:
        await self.loop.run()

    async def step(self) -> BatchResult:
        """Count one batch and acknowledge it."""
        handled = await self.loop.step()
        return BatchResult(0, 0, 0, 0) if handled is None else handled.result

    async def _count(self, entries: list[StreamEntry]) -> Handled[BatchResult]:
        result = await count_events(self.uow, entries)
        return Handled(result, [entry.entry_id for entry in entries])

    def _counted(self, result: BatchResult, seconds: float) -> None:
        self.telemetry.batch(result.read, result.counted, result.duplicates, result.bad, seconds)


async def watch_lag(stream: AbstractEventStream, telemetry: Telemetry, interval_s: float) -> None:
    """Measure the lag every ``interval_s`` until cancelled."""
    while True:
        try:
            telemetry.lag(await stream.lag())
        except Unavailable as error:
            telemetry.unavailable(error.dependency)
        await asyncio.sleep(interval_s)
