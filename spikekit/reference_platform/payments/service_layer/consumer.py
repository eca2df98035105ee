"""The worker's loop: read payment entries as one consumer of the group, process, acknowledge.

An entry is acknowledged only after its payment reached a final stage, so a
worker killed mid-batch leaves its entries pending under its consumer name.
With ``reclaim`` on, every worker periodically takes over entries that have been
pending longer than ``reclaim_idle_ms`` (XAUTOCLAIM) — a dead worker's, or one
stuck far too long — and runs them again; the handlers make that safe. With it
off (fragile profile) a dead worker's entries are never processed.

The loop itself (batches, reclaim, acknowledgement, backoff with jitter) is the one
reporting uses too: :mod:`spikekit.reference_platform.common.stream_consumer`. This
module says what a payment entry is worth: its payment processed to a final stage.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from spikekit.reference_platform.common.clock import MONOTONIC, Clock
from spikekit.reference_platform.common.stream_consumer import (
    Handled,
    StreamConsumer,
    StreamConsumerConfig,
)
from spikekit.reference_platform.payments.domain import Unavailable
from spikekit.reference_platform.payments.service_layer.handlers import Payments
from spikekit.reference_platform.payments.service_layer.ports import (
    AbstractQueue,
    Entry,
    Telemetry,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ConsumerConfig(StreamConsumerConfig):
    """``consumer`` is unique per process (``worker-<replica>-<pid>``): own pending
    entries are only the ones this process could not finish."""

    batch: int = 32
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
        clock: Clock = MONOTONIC,
    ) -> None:
        self.queue = queue
        self.payments = payments
        self.config = config
        self.telemetry = telemetry or Telemetry()
        self.loop = StreamConsumer(
            queue,
            self._handle_batch,
            config,
            self.telemetry,
            unavailable=Unavailable,
            log=log,
            label="payments worker",
            clock=clock,
        )

    def stop(self) -> None:
        """Finish the current batch, then return from ``run()``."""
        self.loop.stop()

    async def run(self) -> None:
        await self.loop.run()

    async def step(self) -> int:
        """Process one batch (own retries, reclaimed, or new entries); the number handled."""
        handled = await self.loop.step()
        return 0 if handled is None else handled.result

    async def _handle_batch(self, entries: list[Entry]) -> Handled[int]:
        finished = await asyncio.gather(*(self._handle(entry) for entry in entries))
        done = [entry.entry_id for entry, ok in zip(entries, finished, strict=True) if ok]
        return Handled(len(done), done, retry=len(done) < len(entries))

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
