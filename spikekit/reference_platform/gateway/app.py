"""The gateway's ASGI app: for now its health, with readiness checks on its dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from spikekit.reference_platform.settings import ServiceSettings


async def _check_postgres(url: str, timeout: float) -> str:
    try:
        conn = await asyncpg.connect(url, timeout=timeout)
        try:
            await conn.fetchval("SELECT 1", timeout=timeout)
        finally:
            await conn.close(timeout=timeout)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"down: {error.__class__.__name__}"
    return "ok"


async def _check_redis(client: aioredis.Redis, timeout: float) -> str:
    try:
        await asyncio.wait_for(client.ping(), timeout)
    except (OSError, aioredis.RedisError, TimeoutError) as error:
        return f"down: {error.__class__.__name__}"
    return "ok"


def create_app() -> FastAPI:
    settings = ServiceSettings()
    cache: dict[str, aioredis.Redis] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.redis_url:
            cache["redis"] = aioredis.from_url(
                settings.redis_url, socket_timeout=settings.dependency_timeout_s
            )
        yield
        for client in cache.values():
            await client.aclose()

    app = FastAPI(title="spikekit gateway", lifespan=lifespan)

    @app.get("/health")
    async def health() -> JSONResponse:
        checks: dict[str, str] = {}
        timeout = settings.dependency_timeout_s
        if settings.database_url:
            checks["postgres"] = await _check_postgres(settings.database_url, timeout)
        if "redis" in cache:
            checks["redis"] = await _check_redis(cache["redis"], timeout)
        ready = all(v == "ok" for v in checks.values())
        body = {
            "status": "ok" if ready else "degraded",
            "service": settings.service,
            "replica": settings.replica,
            "checks": checks,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return app
