"""The worker's loop: read payment entries as one consumer of the group, process, acknowledge.

An entry is acknowledged only after its payment reached a final stage, so a
worker killed mid-batch leaves its entries pending under its consumer name.
With ``reclaim`` on, every worker periodically takes over entries that have been
pending longer than ``reclaim_idle_ms`` (XAUTOCLAIM) — a dead worker's, or one
stuck far too long — and runs them again; the handlers make that safe. With it
off (fragile profile) a dead worker's entries are never processed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from spikekit.reference_platform.payments.domain import Unavailable
from spikekit.reference_platform.payments.service_layer.handlers import Payments
from spikekit.reference_platform.payments.service_layer.ports import (
    AbstractQueue,
    Entry,
    Telemetry,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerConfig:
    consumer: str  # unique per process: worker-<replica>-<pid>
    batch: int = 32
    block_ms: int = 1000
    reclaim: bool = True
    reclaim_idle_ms: int = 15_000
    reclaim_interval_s: float = 1.0
    backoff_max_s: float = 1.0


class Consumer:
    """One worker's consumer; ``run()`` until ``stop()``."""

    def __init__(
        self,
        queue: AbstractQueue,
        payments: Payments,
        config: ConsumerConfig,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.payments = payments
        self.config = config
        self.telemetry = telemetry or Telemetry()
        self._clock = clock
        self._stopping = asyncio.Event()
        self._retry_own = False
        self._reclaimed_at = float("-inf")

    def stop(self) -> None:
        """Finish the current batch, then return from ``run()``."""
        self._stopping.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.queue.ensure_group()
                break
            except Unavailable as error:
                failures = await self._back_off(error, failures)
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.step()
                failures = 0
            except Unavailable as error:
                failures = await self._back_off(error, failures)

    async def _back_off(self, error: Unavailable, failures: int) -> int:
        self.telemetry.unavailable(error.dependency)
        log.warning("payments worker %s: %s", self.config.consumer, error)
        await asyncio.sleep(min(0.05 * 2**failures, self.config.backoff_max_s))
        return failures + 1

    async def step(self) -> int:
        """Process one batch (own retries, reclaimed, or new entries); the number handled."""
        entries = await self._next_batch()
        if not entries:
            return 0
        handled = await asyncio.gather(*(self._handle(entry) for entry in entries))
        done = [entry.entry_id for entry, ok in zip(entries, handled, strict=True) if ok]
        if done:
            await self.queue.ack(done)
        if len(done) < len(entries):
            self._retry_own = True
            await asyncio.sleep(0.1)  # a dependency failed: give it a moment
        return len(done)

    async def _next_batch(self) -> list[Entry]:
        config = self.config
        if self._retry_own:
            self._retry_own = False
            entries = await self.queue.own_pending(config.consumer, config.batch)
            if entries:
                return entries
        if config.reclaim and self._clock() - self._reclaimed_at >= config.reclaim_interval_s:
            self._reclaimed_at = self._clock()
            entries = await self.queue.reclaim(
                config.consumer, config.reclaim_idle_ms, config.batch
            )
            if entries:
                self.telemetry.reclaimed(len(entries))
                return entries
        return await self.queue.read(config.consumer, config.batch, config.block_ms)

    async def _handle(self, entry: Entry) -> bool:
        """True when the entry may be acknowledged (its payment is final, or it has none)."""
        if entry.payment_id is None:
            return True
        try:
            await self.payments.process(entry.payment_id)
        except Unavailable as error:
            self.telemetry.unavailable(error.dependency)
            return False
        except Exception:  # a bug: keep the entry pending, reclaim retries it later
            log.exception("payment %s (entry %s) failed", entry.payment_id, entry.entry_id)
            return False
        return True
