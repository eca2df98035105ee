"""Sessions and rate-limit counters in Redis.

Keys (``prefix`` defaults to ``auth:``):

- ``auth:s:<sha256 of token>`` -> player id, with the session's TTL;
- ``auth:sessions`` -> sorted set of live token digests scored by expiry time,
  trimmed and counted by :meth:`RedisSessions.active` for the gauge (one
  ZREMRANGEBYSCORE + ZCARD every few seconds, not per request);
- ``auth:rl:addr:<address>:<window>`` and ``auth:rl:fail:<username>:<window>``
  -> counters, INCR + EXPIRE in one pipeline.

Every Redis failure becomes :class:`~..domain.AuthUnavailable`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from spikekit.reference_platform.auth.domain import AuthUnavailable
from spikekit.reference_platform.auth.service_layer.ports import AbstractCounters, AbstractSessions


@asynccontextmanager
async def _redis() -> AsyncIterator[None]:
    try:
        yield
    except (OSError, TimeoutError, aioredis.RedisError) as error:
        raise AuthUnavailable("redis", error.__class__.__name__) from error


class RedisSessions(AbstractSessions):
    def __init__(self, client: aioredis.Redis, prefix: str = "auth:") -> None:
        self._redis = client
        self._prefix = prefix
        self._index = f"{prefix}sessions"

    def _key(self, digest: str) -> str:
        return f"{self._prefix}s:{digest}"

    async def create(self, digest: str, player_id: str, ttl_s: int) -> None:
        async with _redis(), self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._key(digest), player_id, ex=ttl_s)
            pipe.zadd(self._index, {digest: time.time() + ttl_s})
            await pipe.execute()

    async def lookup(self, digest: str) -> tuple[str, float] | None:
        async with _redis(), self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key(digest))
            pipe.pttl(self._key(digest))
            player_id, pttl = await pipe.execute()
        if player_id is None or pttl is None or int(pttl) <= 0:
            return None
        value = player_id.decode() if isinstance(player_id, bytes) else str(player_id)
        return value, int(pttl) / 1000

    async def delete(self, digest: str) -> None:
        async with _redis(), self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._key(digest))
            pipe.zrem(self._index, digest)
            await pipe.execute()

    async def active(self) -> int:
        async with _redis(), self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(self._index, "-inf", time.time())
            pipe.zcard(self._index)
            _, count = await pipe.execute()
        return int(count)


class RedisCounters(AbstractCounters):
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def incr(self, key: str, expire_s: int) -> int:
        async with _redis(), self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, expire_s)
            count, _ = await pipe.execute()
        return int(count)

    async def get(self, key: str) -> int:
        async with _redis():
            value = await self._redis.get(key)
        return 0 if value is None else int(value)
