"""One consumer of a Redis Streams consumer group: the loop payments and reporting share.

:meth:`StreamConsumer.run` creates the group, then, batch after batch until
:meth:`StreamConsumer.stop`:

1. picks the next batch: this consumer's own pending entries first when it must
   (``own_first``: a stable consumer name after a restart or an outage; any consumer
   after a batch it could not finish), then every ``reclaim_interval_s`` the entries
   other consumers left pending longer than ``reclaim_idle_ms`` (XAUTOCLAIM), then new
   entries (XREADGROUP, blocking ``block_ms``);
2. hands it to the service's handler, which says which entries may be acknowledged;
3. acknowledges those;
4. after a batch smaller than ``batch``, lingers ``linger_s`` (0: not at all) so that the
   entries arriving meanwhile are handled together: fewer, larger batches for a consumer
   whose cost is per batch (reporting's one transaction), at the price of that much lag.

A failure of a dependency (the service's ``unavailable`` exception) is retried with
tenacity: exponential backoff from ``backoff_first_s`` up to ``backoff_max_s`` with full
jitter (``wait_random_exponential``), so the consumers of a stream that failed together do
not come back together. Waits are on an injectable :class:`~.clock.Clock`.

What an entry holds and what is done with it belong to the service; this module knows
neither Redis nor the payload (the adapters implement :class:`GroupStream`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_random_exponential

from spikekit.reference_platform.common.clock import MONOTONIC, Clock

T = TypeVar("T")
R = TypeVar("R")


class HasEntryId(Protocol):
    @property
    def entry_id(self) -> str: ...


E = TypeVar("E", bound=HasEntryId)


class GroupStream(Protocol[E]):
    """A stream seen through one consumer group (the services' stream ports)."""

    async def ensure_group(self) -> None: ...

    async def read(self, consumer: str, count: int, block_ms: int) -> list[E]: ...

    async def own_pending(self, consumer: str, count: int) -> list[E]: ...

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[E]: ...

    async def ack(self, entry_ids: list[str]) -> None: ...


class StreamTelemetry(Protocol):
    def unavailable(self, dependency: str) -> None: ...

    def reclaimed(self, entries: int) -> None: ...


@dataclass(frozen=True, kw_only=True)
class StreamConsumerConfig:
    consumer: str  # this consumer's name in the group
    batch: int
    block_ms: int = 1000
    reclaim: bool = True  # take over other consumers' entries once idle
    reclaim_idle_ms: int
    reclaim_interval_s: float
    backoff_first_s: float = 0.05
    backoff_max_s: float
    retry_pause_s: float = 0.1  # after a batch with entries left pending
    own_first: bool = False  # own pending entries first at start and after an outage
    linger_s: float = 0.0  # after a short batch, before reading again (0: read at once)


@dataclass(frozen=True)
class Handled(Generic[R]):
    """What the service's handler made of a batch."""

    result: R
    done: list[str]  # the entry ids to acknowledge
    retry: bool = False  # some are left pending: read own pending next, after a pause


class StreamConsumer(Generic[E, R]):
    """One consumer's loop; ``run()`` until ``stop()``."""

    def __init__(
        self,
        source: GroupStream[E],
        handle: Callable[[list[E]], Awaitable[Handled[R]]],
        config: StreamConsumerConfig,
        telemetry: StreamTelemetry,
        *,
        unavailable: type[Exception],
        log: logging.Logger,
        label: str,
        clock: Clock = MONOTONIC,
        on_acked: Callable[[R, float], None] | None = None,
    ) -> None:
        self.source = source
        self.config = config
        self.telemetry = telemetry
        self.clock = clock
        self._handle = handle
        self._unavailable = unavailable
        self._log = log
        self._label = label
        self._on_acked = on_acked
        self._stopping = False
        self._own_first = config.own_first
        self._reclaimed_at = float("-inf")
        self._short = False  # the last batch was smaller than config.batch

    def stop(self) -> None:
        """Finish the current batch (or backoff), then return from ``run()``."""
        self._stopping = True

    async def run(self) -> None:
        await self._retrying(self.source.ensure_group)
        while not self._stopping:
            handled = await self._retrying(self.step)
            if handled is not None and handled.retry:
                await self.clock.sleep(self.config.retry_pause_s)  # give the dependency a moment
            elif handled is not None and self._short and self.config.linger_s > 0:
                await self.clock.sleep(self.config.linger_s)  # let the next batch gather

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """``call()`` until it does not raise ``unavailable``; None once stopped."""

        async def attempt() -> T | None:
            return None if self._stopping else await call()

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(self._unavailable),
            wait=wait_random_exponential(
                multiplier=self.config.backoff_first_s, max=self.config.backoff_max_s
            ),
            after=self._failed,
            sleep=self.clock.sleep,
        )
        return await retrying(attempt)

    def _failed(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        self.telemetry.unavailable(str(getattr(error, "dependency", "unknown")))
        self._log.warning("%s %s: %s", self._label, self.config.consumer, error)
        if self.config.own_first:
            self._own_first = True

    async def step(self) -> Handled[R] | None:
        """Handle one batch and acknowledge what the handler finished; None when idle."""
        entries = await self._next_batch()
        if not entries:
            return None
        self._short = len(entries) < self.config.batch
        started = time.perf_counter()
        handled = await self._handle(entries)
        if handled.done:
            await self.source.ack(handled.done)
        if handled.retry:
            self._own_first = True
        if self._on_acked is not None:
            self._on_acked(handled.result, time.perf_counter() - started)
        return handled

    async def _next_batch(self) -> list[E]:
        config = self.config
        if self._own_first:
            entries = await self.source.own_pending(config.consumer, config.batch)
            if entries:
                return entries
            self._own_first = False
        if config.reclaim and self.clock.now() - self._reclaimed_at >= config.reclaim_interval_s:
            self._reclaimed_at = self.clock.now()
            entries = await self.source.reclaim(
                config.consumer, config.reclaim_idle_ms, config.batch
            )
            if entries:
                self.telemetry.reclaimed(len(entries))
                return entries
        return await self.source.read(config.consumer, config.batch, config.block_ms)
