"""The lobby kept in Redis for every replica, protected against a stampede.

The value is the lobby's JSON body prefixed by the time it stays fresh
(``b"<fresh_until>|{...}"``), stored for ``ttl + stale`` seconds:

- fresh: served (``hit``);
- stale: served at once (``stale``), and the caller that wins a short Redis lock
  (``SET NX PX``) refreshes it in the background — one router call for all replicas;
- missing (cold cache, after a flush): the lock's winner asks the router and stores
  the answer; the others poll Redis for up to ``wait_s`` (``wait``) before asking
  the router themselves; on one replica concurrent misses share one call;
- Redis failing or slow: the router is asked (``error``), one call per replica at a
  time — a cache outage must not take the lobby down.

:class:`LocalLobby` keeps the body in the process for a second in front of that, so
that a replica serving thousands of lobbies a second asks Redis about once a second
(a Redis round trip through the stack's link costs more than the rest of the request).
:class:`DirectLobby` is the fragile profile: every lobby asks the router.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from spikekit.reference_platform.gateway.adapters.metrics import GatewayMetrics
from spikekit.reference_platform.gateway.service_layer.ports import LobbyPort

Load = Callable[[], Awaitable[bytes]]
POLL_S = 0.025


class DirectLobby:
    async def get(self, load: Load) -> bytes:
        return await load()


class LocalLobby:
    """The lobby kept in this process for ``ttl_s`` in front of another store."""

    def __init__(
        self,
        inner: LobbyPort,
        ttl_s: float,
        metrics: GatewayMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.ttl_s = ttl_s
        self.metrics = metrics
        self.clock = clock
        self._body: bytes | None = None
        self._until = 0.0

    async def get(self, load: Load) -> bytes:
        if self._body is not None and self.clock() < self._until:
            if self.metrics is not None:
                self.metrics.lobby_cache.labels("local").inc()
            return self._body
        body = await self.inner.get(load)
        self._body, self._until = body, self.clock() + self.ttl_s
        return body


class RedisLobby:
    def __init__(
        self,
        redis: aioredis.Redis,
        key: str,
        *,
        ttl_s: float,
        stale_s: float,
        lock_s: float,
        wait_s: float,
        timeout_s: float,
        metrics: GatewayMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.key = key
        self.lock_key = f"{key}:lock"
        self.ttl_s = ttl_s
        self.stale_s = stale_s
        self.lock_ms = max(1, int(lock_s * 1000))
        self.wait_s = wait_s
        self.timeout_s = timeout_s
        self.metrics = metrics
        self.clock = clock
        self._loading: asyncio.Future[bytes] | None = None
        self._refreshing: set[asyncio.Task[None]] = set()

    async def get(self, load: Load) -> bytes:
        try:
            cached = await self._read()
        except (aioredis.RedisError, OSError, TimeoutError):
            self._note("error")
            return await self._single_flight(load)
        if cached is not None:
            fresh_until, body = cached
            if self.clock() < fresh_until:
                self._note("hit")
            else:
                self._note("stale")
                if await self._lock():
                    self._refresh_later(load)
            return body
        if await self._lock():
            self._note("miss")
            return await self._fill(load)
        waited = await self._wait_for_value()
        if waited is not None:
            self._note("wait")
            return waited
        self._note("miss")
        return await self._single_flight(load)

    async def _read(self) -> tuple[float, bytes] | None:
        async with asyncio.timeout(self.timeout_s):
            raw = await self.redis.get(self.key)
        if not isinstance(raw, bytes) or b"|" not in raw:
            return None
        stamp, body = raw.split(b"|", 1)
        try:
            return float(stamp), body
        except ValueError:
            return None

    async def _lock(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout_s):
                return bool(await self.redis.set(self.lock_key, b"1", nx=True, px=self.lock_ms))
        except (aioredis.RedisError, OSError, TimeoutError):
            return True  # no Redis to coordinate with: this replica loads for itself

    async def _fill(self, load: Load) -> bytes:
        try:
            body = await self._single_flight(load)
            await self._store(body)
            return body
        finally:
            with contextlib.suppress(aioredis.RedisError, OSError, TimeoutError):
                async with asyncio.timeout(self.timeout_s):
                    await self.redis.delete(self.lock_key)

    async def _store(self, body: bytes) -> None:
        value = f"{self.clock() + self.ttl_s:.3f}|".encode() + body
        expire_ms = max(1, int((self.ttl_s + self.stale_s) * 1000))
        with contextlib.suppress(aioredis.RedisError, OSError, TimeoutError):
            async with asyncio.timeout(self.timeout_s):
                await self.redis.set(self.key, value, px=expire_ms)

    def _refresh_later(self, load: Load) -> None:
        async def refresh() -> None:
            with contextlib.suppress(Exception):  # the stale value keeps being served
                await self._fill(load)

        task = asyncio.create_task(refresh())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def _wait_for_value(self) -> bytes | None:
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            try:
                cached = await self._read()
            except (aioredis.RedisError, OSError, TimeoutError):
                return None
            if cached is not None:
                return cached[1]
        return None

    async def _single_flight(self, load: Load) -> bytes:
        """One router call at a time on this replica; concurrent callers share its answer."""
        if self._loading is None:
            self._loading = asyncio.ensure_future(load())
            self._loading.add_done_callback(self._loaded)
        return await asyncio.shield(self._loading)

    def _loaded(self, future: asyncio.Future[bytes]) -> None:
        self._loading = None
        if not future.cancelled():
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits

    def _note(self, result: str) -> None:
        if self.metrics is not None:
            self.metrics.lobby_cache.labels(result).inc()

    async def aclose(self) -> None:
        for task in list(self._refreshing):
            task.cancel()
        for task in list(self._refreshing):
            with contextlib.suppress(asyncio.CancelledError):
                await task
