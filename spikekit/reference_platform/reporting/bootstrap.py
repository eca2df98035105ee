"""Wiring: settings in; the PostgreSQL pool, the Redis client, the stream and the consumer out.

Nothing is built at import time; :func:`connect` opens everything and closes it
on the way out. Unit tests wire :class:`EventConsumer` with fakes directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from spikekit.errors import ConfigError
from spikekit.reference_platform.common.connections import create_pool, redis_client
from spikekit.reference_platform.reporting.adapters.postgres import (
    DB_ERRORS,
    PostgresUnitOfWork,
    ensure_schema,
    unavailable,
)
from spikekit.reference_platform.reporting.adapters.stream import RedisEventStream
from spikekit.reference_platform.reporting.service_layer.consumer import (
    ConsumerConfig,
    EventConsumer,
)
from spikekit.reference_platform.reporting.service_layer.ports import Telemetry
from spikekit.reference_platform.reporting.settings import ReportingSettings


@dataclass
class Running:
    pool: Any
    redis: aioredis.Redis
    stream: RedisEventStream
    consumer: EventConsumer


def consumer_config(settings: ReportingSettings) -> ConsumerConfig:
    return ConsumerConfig(
        consumer=f"reporting-{settings.replica}",
        batch=settings.reporting_batch,
        block_ms=settings.reporting_block_ms,
        linger_s=settings.reporting_linger_ms / 1000,
        reclaim_idle_ms=int(settings.reporting_reclaim_idle_s * 1000),
    )


async def open_pool(dsn: str, service: str, size: int, timeout: float) -> Any:
    try:
        return await create_pool(
            dsn,
            service,
            min_size=1,
            max_size=size,
            timeout=timeout,
            command_timeout=timeout,
        )
    except DB_ERRORS as error:
        raise unavailable(error) from error


@asynccontextmanager
async def connect(
    settings: ReportingSettings, telemetry: Telemetry | None = None
) -> AsyncIterator[Running]:
    if not settings.database_url or not settings.redis_url:
        raise ConfigError("reporting needs SPIKEKIT_DATABASE_URL and SPIKEKIT_REDIS_URL")
    timeout = settings.dependency_timeout_s
    pool = await open_pool(
        settings.database_url, settings.service, settings.reporting_pool_size, timeout
    )
    # a blocking XREADGROUP waits block_ms before it answers
    read_timeout = timeout + settings.reporting_block_ms / 1000
    client = redis_client(settings.redis_url, timeout, read_timeout=read_timeout)
    try:
        await ensure_schema(pool, timeout)
        stream = RedisEventStream(
            client,
            stream=settings.reporting_stream,
            group=settings.reporting_group,
            lag_cap=settings.reporting_lag_cap,
        )
        consumer = EventConsumer(
            stream,
            lambda: PostgresUnitOfWork(pool, timeout),
            consumer_config(settings),
            telemetry,
        )
        yield Running(pool, client, stream, consumer)
    finally:
        await client.aclose()
        await pool.close()
