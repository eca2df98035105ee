"""Reporting's loop: read wallet events as a consumer group, add them up, acknowledge.

One batch is one transaction: the event ids are remembered, the players of each
minute recorded, the per-minute totals upserted — then the entries are
acknowledged. A crash between the commit and the acknowledgement re-delivers
the batch, and the remembered ids keep it from being counted twice. Nothing
here is ever awaited by the wallet: when reporting is slow or stopped, the
stream simply grows and the lag gauges say by how much.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class ConsumerConfig:
    consumer: str  # reporting-<replica>: stable, so a restart finds its own pending entries
    batch: int = 500
    block_ms: int = 1000
    reclaim_idle_ms: int = 30_000
    reclaim_interval_s: float = 5.0
    backoff_max_s: float = 2.0


class EventConsumer:
    def __init__(
        self,
        stream: AbstractEventStream,
        uow: UnitOfWorkFactory,
        config: ConsumerConfig,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.uow = uow
        self.config = config
        self.telemetry = telemetry or Telemetry()
        self._clock = clock
        self._stopping = asyncio.Event()
        self._own_first = True  # after a restart or a failure: our own pending entries first
        self._reclaimed_at = float("-inf")

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.stream.ensure_group()
                break
            except Unavailable as error:
                failures = await self._back_off(error, failures)
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.step()
                failures = 0
            except Unavailable as error:
                self._own_first = True
                failures = await self._back_off(error, failures)

    async def _back_off(self, error: Unavailable, failures: int) -> int:
        self.telemetry.unavailable(error.dependency)
        log.warning("reporting consumer %s: %s", self.config.consumer, error)
        await asyncio.sleep(min(0.05 * 2**failures, self.config.backoff_max_s))
        return failures + 1

    async def step(self) -> BatchResult:
        """Count one batch and acknowledge it."""
        entries = await self._next_batch()
        if not entries:
            return BatchResult(0, 0, 0, 0)
        started = time.perf_counter()
        result = await count_events(self.uow, entries)
        await self.stream.ack([entry.entry_id for entry in entries])
        self.telemetry.batch(
            result.read,
            result.counted,
            result.duplicates,
            result.bad,
            time.perf_counter() - started,
        )
        return result

    async def _next_batch(self) -> list[StreamEntry]:
        config = self.config
        if self._own_first:
            entries = await self.stream.own_pending(config.consumer, config.batch)
            if entries:
                return entries
            self._own_first = False
        if self._clock() - self._reclaimed_at >= config.reclaim_interval_s:
            self._reclaimed_at = self._clock()
            entries = await self.stream.reclaim(
                config.consumer, config.reclaim_idle_ms, config.batch
            )
            if entries:
                return entries
        return await self.stream.read(config.consumer, config.batch, config.block_ms)


async def watch_lag(stream: AbstractEventStream, telemetry: Telemetry, interval_s: float) -> None:
    """Measure the lag every ``interval_s`` until cancelled."""
    while True:
        try:
            telemetry.lag(await stream.lag())
        except Unavailable as error:
            telemetry.unavailable(error.dependency)
        await asyncio.sleep(interval_s)
