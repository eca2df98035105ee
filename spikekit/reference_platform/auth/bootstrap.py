"""Wiring: settings and adapters in, the :class:`~.service_layer.handlers.Auth` handlers out.

:func:`bootstrap` is pure wiring (unit tests give it fakes); :func:`connect`
opens the real PostgreSQL pool, Redis client and hashing threads, and closes
them on the way out.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from spikekit.errors import ConfigError
from spikekit.reference_platform.auth.adapters.metrics import AuthMetrics
from spikekit.reference_platform.auth.adapters.passwords import Argon2Passwords, argon2id
from spikekit.reference_platform.auth.adapters.postgres import (
    PostgresCredentials,
    open_pool,
)
from spikekit.reference_platform.auth.adapters.redis_store import RedisCounters, RedisSessions
from spikekit.reference_platform.auth.domain import FixedWindow
from spikekit.reference_platform.auth.service_layer.cache import ValidationCache
from spikekit.reference_platform.auth.service_layer.handlers import Auth, Limits
from spikekit.reference_platform.auth.service_layer.ports import (
    AbstractCounters,
    AbstractCredentials,
    AbstractPasswords,
    AbstractSessions,
    NullTelemetry,
    Telemetry,
)
from spikekit.reference_platform.auth.settings import AuthSettings
from spikekit.reference_platform.common.connections import close_pool, redis_client


def bootstrap(
    settings: AuthSettings,
    *,
    credentials: AbstractCredentials,
    sessions: AbstractSessions,
    counters: AbstractCounters,
    passwords: AbstractPasswords,
    telemetry: Telemetry | None = None,
    clock: Callable[[], float] = time.time,
) -> Auth:
    policy = settings.policy
    limits = (
        Limits(
            account=FixedWindow(settings.auth_account_failures, settings.auth_account_window_s),
            address=FixedWindow(settings.auth_address_attempts, settings.auth_address_window_s),
            prefix=settings.auth_redis_prefix,
        )
        if policy.rate_limits
        else None
    )
    cache = (
        ValidationCache(settings.auth_cache_ttl_s, settings.auth_cache_size)
        if policy.validation_cache
        else None
    )
    return Auth(
        credentials=credentials,
        sessions=sessions,
        counters=counters,
        passwords=passwords,
        session_ttl_s=settings.auth_session_ttl_s,
        limits=limits,
        cache=cache,
        telemetry=telemetry or NullTelemetry(),
        clock=clock,
    )


@dataclass
class Running:
    """The live service: its handlers and what the app needs besides (health, gauges)."""

    auth: Auth
    sessions: AbstractSessions
    pool: Any
    redis: aioredis.Redis


@asynccontextmanager
async def connect(settings: AuthSettings, metrics: AuthMetrics) -> AsyncIterator[Running]:
    if not settings.database_url or not settings.redis_url:
        raise ConfigError("auth needs SPIKEKIT_DATABASE_URL and SPIKEKIT_REDIS_URL")
    timeout = settings.dependency_timeout_s
    policy = settings.policy
    executor = ThreadPoolExecutor(policy.hash_threads, thread_name_prefix="argon2")
    pool = await open_pool(
        settings.database_url,
        service=settings.service,
        size=settings.auth_pool_size,
        timeout=timeout,
    )
    client = redis_client(settings.redis_url, timeout)
    try:
        passwords = Argon2Passwords(
            argon2id(*settings.argon2_cost),
            executor,
            bound=policy.verify_bound,
            retry_after_s=settings.auth_overload_retry_after_s,
            observe_verify=metrics.observe_verify,
        )
        metrics.track_in_flight(lambda: passwords.in_flight)
        sessions = RedisSessions(client, settings.auth_redis_prefix)
        auth = bootstrap(
            settings,
            credentials=PostgresCredentials(pool, timeout),
            sessions=sessions,
            counters=RedisCounters(client),
            passwords=passwords,
            telemetry=metrics,
        )
        yield Running(auth, sessions, pool, client)
    finally:
        await client.aclose()
        await close_pool(pool, timeout)
        executor.shutdown(wait=True, cancel_futures=True)
