"""Usernames by player id, kept in Redis for as long as the player's session lives.

Auth's session answer carries the player id only; ``GET /api/me`` also shows the
username. The gateway learns it at login (and registration) and keeps it under
``<prefix>profile:<player_id>``; when Redis has lost it (a flush) a seeded
player's name is derived from the id, anyone else's is unknown (``null``) until
the next login. Redis trouble never fails a request here.
"""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as aioredis

from spikekit.reference_platform.gateway.domain import seeded_username

_REDIS_TROUBLE = (aioredis.RedisError, OSError, TimeoutError)


class RedisProfiles:
    def __init__(self, redis: aioredis.Redis, prefix: str, timeout_s: float) -> None:
        self.redis = redis
        self.prefix = f"{prefix}profile:"
        self.timeout_s = timeout_s

    async def remember(self, player_id: str, username: str, ttl_s: int) -> None:
        with contextlib.suppress(*_REDIS_TROUBLE):
            async with asyncio.timeout(self.timeout_s):
                await self.redis.set(self.prefix + player_id, username, ex=max(1, ttl_s))

    async def username(self, player_id: str) -> str | None:
        raw: object = None
        with contextlib.suppress(*_REDIS_TROUBLE):
            async with asyncio.timeout(self.timeout_s):
                raw = await self.redis.get(self.prefix + player_id)
        if isinstance(raw, bytes):
            return raw.decode()
        return seeded_username(player_id)


class NoProfiles:
    """Without Redis: the seeded naming only."""

    async def remember(self, player_id: str, username: str, ttl_s: int) -> None:
        return None

    async def username(self, player_id: str) -> str | None:
        return seeded_username(player_id)
