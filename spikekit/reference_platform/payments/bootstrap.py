"""Wiring: settings and adapters in, the :class:`~.service_layer.handlers.Payments` handlers out.

:func:`bootstrap` is pure wiring (unit tests give it fakes); :func:`connect`
opens the real Redis client and wallet HTTP client and closes them on the way
out. Nothing is built at import time.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import redis.asyncio as aioredis

from spikekit.errors import ConfigError
from spikekit.reference_platform.payments.adapters.provider import ProviderConfig, SimulatedProvider
from spikekit.reference_platform.payments.adapters.redis_store import RedisPaymentStore
from spikekit.reference_platform.payments.adapters.stream import RedisQueue
from spikekit.reference_platform.payments.adapters.wallet_client import HttpWallet
from spikekit.reference_platform.payments.service_layer.consumer import ConsumerConfig
from spikekit.reference_platform.payments.service_layer.handlers import Payments
from spikekit.reference_platform.payments.service_layer.ports import (
    AbstractPaymentStore,
    AbstractProvider,
    AbstractWallet,
    Telemetry,
)
from spikekit.reference_platform.payments.settings import PaymentsSettings


def bootstrap(
    settings: PaymentsSettings,
    *,
    store: AbstractPaymentStore,
    wallet: AbstractWallet,
    provider: AbstractProvider | None = None,
    telemetry: Telemetry | None = None,
) -> Payments:
    return Payments(
        store=store,
        wallet=wallet,
        provider=provider or SimulatedProvider(provider_config(settings)),
        policy=settings.policy,
        max_queue_depth=settings.payments_max_queue_depth,
        retry_after_s=settings.payments_retry_after_s,
        sync_timeout_s=settings.payments_sync_timeout_s,
        telemetry=telemetry or Telemetry(),
    )


def provider_config(settings: PaymentsSettings) -> ProviderConfig:
    return ProviderConfig(
        latency_s=settings.payments_provider_latency_s,
        jitter_s=settings.payments_provider_jitter_s,
        decline_rate=settings.payments_decline_rate,
        seed=settings.payments_provider_seed,
    )


def consumer_config(settings: PaymentsSettings, pid: int | None = None) -> ConsumerConfig:
    """One consumer name per process, so a dead worker's entries stay under its own name."""
    return ConsumerConfig(
        consumer=f"worker-{settings.replica}-{pid or os.getpid()}",
        batch=settings.payments_batch,
        block_ms=settings.payments_block_ms,
        reclaim=settings.policy.reclaim,
        reclaim_idle_ms=int(settings.payments_reclaim_idle_s * 1000),
        reclaim_interval_s=settings.payments_reclaim_interval_s,
    )


@dataclass
class Running:
    """The live service: handlers, the stream, and the clients to close."""

    payments: Payments
    queue: RedisQueue
    redis: aioredis.Redis


@asynccontextmanager
async def connect(
    settings: PaymentsSettings, telemetry: Telemetry | None = None
) -> AsyncIterator[Running]:
    if not settings.redis_url:
        raise ConfigError("payments needs SPIKEKIT_REDIS_URL")
    if not settings.wallet_base_urls:
        raise ConfigError("payments needs the wallet's URLs (SPIKEKIT_WALLET_URLS)")
    timeout = settings.dependency_timeout_s
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.payments_redis_connections,
        timeout=timeout,  # waiting for a free connection is bounded too
        # a blocking XREADGROUP waits block_ms before it answers
        socket_timeout=timeout + settings.payments_block_ms / 1000,
        socket_connect_timeout=timeout,
    )
    client = aioredis.Redis.from_pool(pool)  # closing the client closes the pool
    wallet = HttpWallet(
        settings.wallet_base_urls,
        timeout_s=timeout,
        signer=settings.signer(),
        connections=settings.payments_wallet_connections,
        attempts=settings.payments_wallet_attempts,
    )
    try:
        store = RedisPaymentStore(
            client,
            prefix=settings.payments_prefix,
            stream=settings.payments_stream,
            ttl_s=settings.payments_record_ttl_s,
        )
        queue = RedisQueue(client, stream=settings.payments_stream, group=settings.payments_group)
        payments = bootstrap(settings, store=store, wallet=wallet, telemetry=telemetry)
        yield Running(payments, queue, client)
    finally:
        await wallet.close()
        await client.aclose()
