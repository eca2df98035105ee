"""Readiness checks of a service's dependencies, each bounded by a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import redis.asyncio as aioredis

Check = Callable[[], Awaitable[str]]


def postgres_check(pool: Callable[[], asyncpg.Pool | None], timeout: float) -> Check:
    """``"ok"`` when the pool can run ``SELECT 1`` within ``timeout``."""

    async def check() -> str:
        current = pool()
        if current is None:
            return "down: no pool"
        try:
            async with asyncio.timeout(timeout):
                async with current.acquire() as conn:
                    await conn.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            return f"down: {error.__class__.__name__}"
        return "ok"

    return check


def redis_check(client: Callable[[], aioredis.Redis | None], timeout: float) -> Check:
    """``"ok"`` when Redis answers PING within ``timeout``."""

    async def check() -> str:
        current = client()
        if current is None:
            return "down: no client"
        try:
            async with asyncio.timeout(timeout):
                await current.ping()
        except (OSError, aioredis.RedisError, TimeoutError) as error:
            return f"down: {error.__class__.__name__}"
        return "ok"

    return check
