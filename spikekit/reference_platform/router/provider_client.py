"""One call from the router to one studio: breaker, timeout, retries within a budget, health.

An answer that is the studio's failure (no answer in time, a broken connection, 429
or 5xx) raises :class:`ProviderFailed`; it counts against the studio's breaker and
health and is retried (tenacity) while attempts and the retry budget allow. Any other
answer (2xx, a 4xx about the request) is returned as it is: it is not the studio's fault.

A failure is *ambiguous* when the studio may have acted on the request: no answer in
time, a connection lost after sending, a 5xx other than 503. A studio refuses with 429
or 503 before it plays, and a refused connection was never sent. A call that moves money
(a round) is never retried after an ambiguous failure: the studio finishes or rolls back
what it started, and a second attempt would be a second bet.
"""

from __future__ import annotations

import time

from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_random

from spikekit.errors import SpikekitError
from spikekit.reference_platform.common import oplog
from spikekit.reference_platform.common.http_client import (
    ConnectFailed,
    HttpPool,
    HttpResponse,
    RequestTimeout,
    TransportError,
)
from spikekit.reference_platform.router.breakers import Breakers
from spikekit.reference_platform.router.budget import RetryBudget
from spikekit.reference_platform.router.health_store import HealthBoard
from spikekit.reference_platform.router.metrics import RouterMetrics
from spikekit.reference_platform.router.settings import Mechanisms


class ProviderFailed(SpikekitError):
    def __init__(
        self, studio: str, reason: str, retry_after: str | None = None, *, ambiguous: bool
    ) -> None:
        self.studio = studio
        self.reason = reason
        self.retry_after = retry_after
        self.ambiguous = ambiguous  # the studio may have acted on the request
        super().__init__(f"{studio}: {reason}")


_REFUSALS = frozenset({429, 503})  # a studio says these before it plays


class ProviderClient:
    def __init__(
        self,
        studio: str,
        pool: HttpPool,
        mechanisms: Mechanisms,
        breakers: Breakers,
        budget: RetryBudget,
        board: HealthBoard,
        metrics: RouterMetrics | None = None,
    ) -> None:
        self.studio = studio
        self.pool = pool
        self.mechanisms = mechanisms
        self.breakers = breakers
        self.budget = budget
        self.board = board
        self.metrics = metrics

    async def post(
        self, operation: str, path: str, body: bytes, *, idempotent: bool = True
    ) -> HttpResponse:
        """The studio's answer; :class:`ProviderFailed` or ``BreakerOpen`` when it has none.

        ``idempotent=False`` (a round): no retry after an ambiguous failure.
        """
        self.budget.record_request(time.monotonic())

        def may_retry(state: RetryCallState) -> bool:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            if isinstance(error, ProviderFailed) and error.ambiguous and not idempotent:
                return False
            return self._may_retry(state)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.mechanisms.attempts),
            wait=wait_random(0.005, 0.05),
            retry=may_retry,
            before_sleep=lambda _: self._count_retry(operation),
            reraise=True,
        )
        response: HttpResponse = await retrying(self._attempt, operation, path, body)
        return response

    def _may_retry(self, state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None or not isinstance(outcome.exception(), ProviderFailed):
            return False
        if self.budget.try_spend(time.monotonic()):
            return True
        if self.metrics is not None:
            self.metrics.budget_exhausted.inc()
        return False

    async def _attempt(self, operation: str, path: str, body: bytes) -> HttpResponse:
        headers = {"Content-Type": "application/json"}
        async with self.breakers.guard(self.studio):
            started = time.perf_counter()
            try:
                response = await self.pool.request(
                    "POST", path, body, headers, timeout=self.mechanisms.timeout_s
                )
            except TransportError as error:
                reason = "timeout" if isinstance(error, RequestTimeout) else "connection"
                oplog.event(
                    f"dependency_{reason}",
                    "warning",
                    self.studio,
                    dependency=self.studio,
                    operation=operation,
                )
                self._record(operation, started, reason)
                sent = not isinstance(error, ConnectFailed)
                raise ProviderFailed(self.studio, reason, ambiguous=sent) from error
            if response.status == 429 or response.status >= 500:
                self._record(operation, started, f"status_{response.status}")
                retry_after = response.headers.get("retry-after")
                raise ProviderFailed(
                    self.studio,
                    f"status {response.status}",
                    retry_after,
                    ambiguous=response.status not in _REFUSALS,
                )
            self._record(operation, started, None)
            return response

    def _record(self, operation: str, started: float, failure: str | None) -> None:
        elapsed = time.perf_counter() - started
        self.board.observe(self.studio, elapsed * 1000, failure is None)
        if self.metrics is not None:
            self.metrics.latency.labels(self.studio, operation).observe(elapsed)
            if failure is not None:
                self.metrics.errors.labels(self.studio, operation, failure).inc()

    def _count_retry(self, operation: str) -> None:
        if self.metrics is not None:
            self.metrics.retries.labels(self.studio, operation).inc()
