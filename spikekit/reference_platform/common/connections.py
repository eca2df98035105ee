"""The services' PostgreSQL pools and Redis clients, opened one way.

Every asyncpg session a service opens is named after the service
(``application_name``, seen in ``pg_stat_activity``): the chaos engine's
``database.terminate_backends`` fault picks a service's sessions by that prefix.
asyncpg is untyped, so its pool stays ``Any`` here as in the adapters.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import redis.asyncio as aioredis


def session_settings(service: str) -> dict[str, str]:
    """``server_settings`` that name a service's sessions after it."""
    return {"application_name": service}


async def create_pool(dsn: str, service: str, **options: Any) -> Any:
    """An asyncpg pool whose sessions carry ``application_name=service``."""
    return await asyncpg.create_pool(dsn, server_settings=session_settings(service), **options)


async def close_pool(pool: Any, timeout: float) -> None:
    """Close gracefully within ``timeout``, else terminate every connection."""
    try:
        await asyncio.wait_for(pool.close(), timeout=timeout)
    except TimeoutError:
        pool.terminate()


def redis_client(
    url: str, timeout: float, *, read_timeout: float | None = None, **options: Any
) -> aioredis.Redis:
    """A Redis client whose connect is bounded by ``timeout`` and every read by
    ``read_timeout`` (``timeout`` unless a blocking read needs longer)."""
    return aioredis.from_url(
        url,
        socket_timeout=timeout if read_timeout is None else read_timeout,
        socket_connect_timeout=timeout,
        **options,
    )
