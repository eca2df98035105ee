"""Wire the wallet: settings → pool, Redis, outbox relay, handlers. Nothing happens at import."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from spikekit.errors import ConfigError
from spikekit.reference_platform.common.connections import redis_client
from spikekit.reference_platform.wallet.adapters.database import Database
from spikekit.reference_platform.wallet.adapters.outbox import OutboxRelay, RelayConfig, RelayHooks
from spikekit.reference_platform.wallet.adapters.unit_of_work import PostgresUnitOfWork
from spikekit.reference_platform.wallet.metrics import WalletMetrics
from spikekit.reference_platform.wallet.service_layer.batcher import BatchConfig
from spikekit.reference_platform.wallet.service_layer.handlers import (
    Policy,
    UnitOfWorkFactory,
    Wallet,
)
from spikekit.reference_platform.wallet.settings import WalletSettings


@dataclass
class Runtime:
    """What the running wallet holds; ``close()`` releases it in reverse order."""

    wallet: Wallet
    database: Database | None = None
    redis: aioredis.Redis | None = None
    relay: OutboxRelay | None = None

    async def close(self) -> None:
        await self.wallet.close()
        if self.relay is not None:
            await self.relay.stop()
        if self.redis is not None:
            await self.redis.aclose()
        if self.database is not None:
            await self.database.close()


async def bootstrap(
    settings: WalletSettings,
    metrics: WalletMetrics | None = None,
    uow: UnitOfWorkFactory | None = None,
) -> Runtime:
    """The wallet on PostgreSQL and Redis, or on ``uow`` (a fake) when given."""
    policy = Policy.for_profile(settings.profile, batched=settings.wallet_batching)
    batching = BatchConfig(
        max_size=settings.wallet_batch_max_size,
        max_inflight=settings.wallet_batch_inflight,
        window_s=settings.wallet_batch_window_ms / 1e3,
    )
    if uow is not None:
        return Runtime(Wallet(uow, policy, settings.wallet_currency, batching=batching))
    if not settings.database_url:
        raise ConfigError("the wallet needs SPIKEKIT_DATABASE_URL")
    database = await Database.connect(
        settings.database_url,
        service=settings.service,
        size=settings.wallet_pool_size,
        timeout=settings.wallet_db_timeout_s,
    )
    wallet = Wallet(
        lambda: PostgresUnitOfWork(database),
        policy,
        settings.wallet_currency,
        batching=batching,
        optimistic=(
            (lambda: PostgresUnitOfWork(database, atomic=False))
            if settings.wallet_batch_optimistic
            else None
        ),
    )
    runtime = Runtime(wallet, database)
    if metrics is not None:
        metrics.watch_pool(database.in_use, database.size)
        wallet.on_batch = metrics.batch_size.observe
    if settings.redis_url:
        runtime.redis = redis_client(settings.redis_url, settings.dependency_timeout_s)
        config = RelayConfig(
            stream=settings.wallet_stream,
            maxlen=settings.wallet_stream_maxlen,
            batch=settings.wallet_outbox_batch,
            interval_s=settings.wallet_outbox_interval_s,
            linger_s=settings.wallet_outbox_linger_s,
            timeout_s=settings.dependency_timeout_s,
        )
        hooks = None
        if metrics is not None:
            hooks = RelayHooks(
                metrics.outbox_published.inc, metrics.outbox_backlog.set, metrics.outbox_errors.inc
            )
        relay = OutboxRelay(database, runtime.redis, config, hooks)
        runtime.relay = relay
        wallet.on_commit = relay.notify
        relay.start()
    return runtime
