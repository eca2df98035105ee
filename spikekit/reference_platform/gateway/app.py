"""The gateway's ASGI app: for now its health, with readiness checks on its dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as aioredis
from fastapi import FastAPI

from spikekit.reference_platform.common.checks import Check, postgres_check, redis_check
from spikekit.reference_platform.common.service_app import service_app
from spikekit.reference_platform.settings import ServiceSettings


def create_app() -> FastAPI:
    settings = ServiceSettings()
    timeout = settings.dependency_timeout_s
    pools: dict[str, asyncpg.Pool] = {}
    clients: dict[str, aioredis.Redis] = {}
    checks: dict[str, Check] = {}
    if settings.database_url:
        checks["postgres"] = postgres_check(lambda: pools.get("db"), timeout)
    if settings.redis_url:
        checks["redis"] = redis_check(lambda: clients.get("redis"), timeout)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.database_url:
            pools["db"] = await asyncpg.create_pool(
                settings.database_url, min_size=1, max_size=4, timeout=timeout
            )
        if settings.redis_url:
            clients["redis"] = aioredis.from_url(settings.redis_url, socket_timeout=timeout)
        yield
        for client in clients.values():
            await client.aclose()
        for pool in pools.values():
            await pool.close()

    app, _ = service_app(settings, "spikekit gateway", checks, lifespan=lifespan)
    return app
