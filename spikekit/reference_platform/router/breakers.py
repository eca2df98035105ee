"""One circuit breaker per studio, with purgatory; its state shared in Redis.

purgatory (``AsyncCircuitBreakerFactory`` on ``AsyncRedisUnitOfWork``) keeps each
breaker's state and failure count in Redis, so every router replica sees a studio's
breaker open as soon as one of them opens it. A breaker opens after ``threshold``
failures in a row, refuses calls for ``open_s`` seconds, then lets calls through
half-open: one success closes it, one failure opens it again. If Redis is slow or gone,
a replica falls back to an in-memory breaker of its own rather than lose protection.
A replica reads a breaker from Redis at most once per ``share_s`` (0.25 s) and uses that
copy for the calls in between (its failures and state changes still go to Redis at once):
two Redis reads per call were a fifth of the router's CPU, and Toxiproxy's and Redis's
besides. The price: another replica's opening is seen here up to ``share_s`` later.
The open period is timed on ``clock`` (wall seconds, like purgatory's ``opened_at``), so
unit tests move it on by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType
from urllib.parse import urlencode, urlsplit, urlunsplit

from purgatory import AsyncCircuitBreakerFactory, AsyncInMemoryUnitOfWork, AsyncRedisUnitOfWork
from purgatory.domain.model import OPENED, Context, HalfOpenedState, OpenedState
from purgatory.service._async.circuitbreaker import AsyncCircuitBreaker
from purgatory.service._async.repository import AsyncRedisRepository
from redis.exceptions import RedisError

from spikekit.errors import SpikekitError
from spikekit.reference_platform.common import oplog

STATE_VALUES = {"closed": 0, "half-opened": 1, "opened": 2}
PREFIX = "spikekit-router-"


class BreakerOpen(SpikekitError):
    def __init__(self, studio: str) -> None:
        self.studio = studio
        super().__init__(f"the circuit breaker of {studio} is open")


class Guard:
    """``async with guard:`` one call; a ``failure`` exception raised inside counts against it."""

    def __init__(self, breakers: Breakers, studio: str) -> None:
        self.breakers = breakers
        self.studio = studio
        self._breaker: AsyncCircuitBreaker | None = None

    async def __aenter__(self) -> Guard:
        if not self.breakers.enabled:
            return self
        breaker = await self.breakers.breaker(self.studio)
        self.breakers.half_open_if_due(breaker.context)
        try:
            await breaker.__aenter__()
        except OpenedState as error:
            self.breakers.report(self.studio, "opened")
            raise BreakerOpen(self.studio) from error
        self._breaker = breaker
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        breaker = self._breaker
        if breaker is None:
            return
        if error is not None and not isinstance(error, self.breakers.failure):
            return  # cancelled, or a bug of ours: not the studio's fault
        try:
            async with asyncio.timeout(self.breakers.timeout_s):
                await breaker.__aexit__(kind, error, tb)
        except (RedisError, OSError, TimeoutError):
            self.breakers.store_errors += 1
        self.breakers.report(self.studio, breaker.context.state)


class Breakers:
    def __init__(
        self,
        enabled: bool,
        threshold: int,
        open_s: float,
        failure: type[BaseException],
        redis_url: str | None = None,
        timeout_s: float = 0.5,
        on_state: Callable[[str, int], None] | None = None,
        clock: Callable[[], float] = time.time,
        share_s: float = 0.25,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.share_s = share_s
        self.monotonic = monotonic
        self._held: dict[str, tuple[float, AsyncCircuitBreaker]] = {}  # studio → (until, copy)
        self.clock = clock
        self.failure = failure
        self.timeout_s = timeout_s
        self.on_state = on_state
        self.store_errors = 0
        self._last: dict[str, str] = {}  # the state last reported per studio
        self.uow: AsyncRedisUnitOfWork | None = None
        if redis_url:
            self.uow = AsyncRedisUnitOfWork(_with_timeouts(redis_url, timeout_s))
        self.shared = AsyncCircuitBreakerFactory(threshold, open_s, uow=self.uow)
        self.local = AsyncCircuitBreakerFactory(threshold, open_s, uow=AsyncInMemoryUnitOfWork())

    def guard(self, studio: str) -> Guard:
        return Guard(self, studio)

    async def breaker(self, studio: str) -> AsyncCircuitBreaker:
        """The shared breaker (read from Redis at most once per ``share_s``), or this
        replica's own when Redis does not answer in time."""
        now = self.monotonic()
        held = self._held.get(studio)
        if held is not None and now < held[0]:
            return held[1]
        try:
            async with asyncio.timeout(self.timeout_s):
                breaker = await self.shared.get_breaker(PREFIX + studio)
            self._held[studio] = (now + self.share_s, breaker)
            return breaker
        except (RedisError, OSError, TimeoutError) as error:
            self.store_errors += 1
            oplog.event(
                "redis_unavailable",
                "warning",
                "breakers",
                use="breakers",
                error=type(error).__name__,
            )
            return await self.local.get_breaker(PREFIX + studio)

    def half_open_if_due(self, context: Context) -> None:
        """Half-open a breaker whose open period has passed on ``clock`` (purgatory does the
        same on entry by ``time.time()``; with the default clock the two agree)."""
        opened_at = context.opened_at
        due = opened_at is not None and self.clock() > opened_at + context.ttl
        if context.state == OPENED and due:
            context.set_state(HalfOpenedState())

    async def state(self, studio: str) -> str:
        if not self.enabled:
            return "closed"
        breaker = await self.breaker(studio)
        return str(breaker.context.state)

    def report(self, studio: str, state: str) -> None:
        was = self._last.get(studio, "closed")
        if was != state:  # a transition: one operator line
            oplog.event("breaker", "warning", studio, studio=studio, state=state, was=was)
            self._last[studio] = state
        if self.on_state is not None:
            self.on_state(studio, STATE_VALUES.get(state, 0))

    async def close(self) -> None:
        if self.uow is not None and isinstance(self.uow.contexts, AsyncRedisRepository):
            await self.uow.contexts.redis.aclose()


def _with_timeouts(url: str, timeout_s: float) -> str:
    """purgatory builds its own Redis client from the URL: give it socket timeouts."""
    parts = urlsplit(url)
    extra = urlencode({"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))
