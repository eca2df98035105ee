"""Queue serialization: money requests that arrive together are applied in one transaction.

A caller ``submit()``s its request and waits for its own outcome. The batcher
starts a batch as soon as a slot is free (at most ``max_inflight`` batches run at
once, each on one database connection), after ``window_s`` (0: the requests that
arrived in the same event-loop turn), or at once when ``max_size`` requests wait.
Requests arriving while the slots are busy queue up and leave together in the
next batch: under load the batches grow by themselves, and an idle wallet adds
no delay. A batch that fails as a whole (the database did not answer) fails each
of its callers with its own copy of the error; a request's own refusal or error is
that caller's answer only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from spikekit.reference_platform.wallet.batch import Item, Outcome
from spikekit.reference_platform.wallet.domain import Answer
from spikekit.reference_platform.wallet.service_layer.unit_of_work import WalletUnavailable
from spikekit.reference_platform.wallet.settle import PairAnswer

ApplyBatch = Callable[[Sequence[Item]], Awaitable[Sequence[Outcome]]]


@dataclass(frozen=True)
class BatchConfig:
    max_size: int = 128  # requests in one transaction
    max_inflight: int = 4  # batches (database connections) at once
    window_s: float = 0.0  # how long the first request of a batch waits for company


class Batcher:
    """Collects requests and runs ``apply`` on batches of them; ``close()`` drains it."""

    def __init__(self, apply: ApplyBatch, config: BatchConfig | None = None) -> None:
        self._apply = apply
        self._config = config or BatchConfig()
        self._waiting: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self._closed = False
        self.batches = 0  # batches run so far (tests and metrics)
        self.requests = 0

    async def submit(self, request: Item) -> Answer | PairAnswer:
        """The request's answer (a pair's for a bet and settle); raises the request's error
        or the batch's failure. A pair is one item: it never straddles two batches."""
        if self._closed:
            raise WalletUnavailable("the wallet is stopping")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        self._schedule()
        outcome = await future
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _schedule(self) -> None:
        if self._timer is not None or len(self._inflight) >= self._config.max_inflight:
            return  # a start is planned, or the next free slot starts one
        loop = asyncio.get_running_loop()
        if len(self._waiting) >= self._config.max_size:
            self._start()
        elif self._config.window_s > 0:
            self._timer = loop.call_later(self._config.window_s, self._start)
        else:
            self._timer = loop.call_soon(self._start)

    def _start(self) -> None:
        self._timer = None
        size = self._config.max_size
        while self._waiting and len(self._inflight) < self._config.max_inflight:
            batch, self._waiting = self._waiting[:size], self._waiting[size:]
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._inflight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if self._waiting:
            self._schedule()

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Outcome]]]) -> None:
        self.batches += 1
        self.requests += len(batch)
        try:
            outcomes = await self._apply([request for request, _ in batch])
        except WalletUnavailable as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(WalletUnavailable(str(error)))
            return
        except BaseException as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():  # a caller that timed out has cancelled its future
                future.set_result(outcome)

    async def close(self) -> None:
        """Refuse new requests, fail the waiting ones, let the running batches finish."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, []
        for _, future in waiting:
            if not future.done():
                future.set_exception(WalletUnavailable("the wallet is stopping"))
        if self._inflight:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._inflight, return_exceptions=True)
