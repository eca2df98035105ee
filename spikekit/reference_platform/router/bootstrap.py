"""Wire the router: settings → Redis, health board, breakers, one client per studio.

Every call to a studio is signed with the router's key (``SPIKEKIT_CALLER_KEY``): the
studios' launches and rounds accept no other caller (docs/security.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import redis.asyncio as aioredis

from spikekit.errors import ConfigError
from spikekit.reference_platform.common.connections import redis_client
from spikekit.reference_platform.common.http_client import HttpPool
from spikekit.reference_platform.router.breakers import Breakers
from spikekit.reference_platform.router.budget import RetryBudget, Unlimited
from spikekit.reference_platform.router.health_store import HealthBoard
from spikekit.reference_platform.router.metrics import RouterMetrics
from spikekit.reference_platform.router.provider_client import ProviderClient, ProviderFailed
from spikekit.reference_platform.router.service import Router
from spikekit.reference_platform.router.settings import RouterSettings


@dataclass
class Runtime:
    router: Router
    board: HealthBoard
    breakers: Breakers
    pools: list[HttpPool]
    redis: aioredis.Redis | None

    async def close(self) -> None:
        await self.board.stop()
        await self.breakers.close()
        for pool in self.pools:
            await pool.aclose()
        if self.redis is not None:
            await self.redis.aclose()


def bootstrap(settings: RouterSettings, metrics: RouterMetrics | None = None) -> Runtime:
    studios = settings.studios()
    if not studios:
        raise ConfigError("the router needs SPIKEKIT_PROVIDER_<NAME>_URLS for at least one studio")
    mechanisms = settings.mechanisms()
    timeout = settings.dependency_timeout_s
    redis = None
    if settings.redis_url:
        redis = redis_client(settings.redis_url, timeout)

    def on_state(studio: str, value: int) -> None:
        if metrics is not None:
            metrics.breaker.labels(studio).set(value)

    breakers = Breakers(
        mechanisms.breakers,
        settings.router_breaker_threshold,
        settings.router_breaker_open_s,
        ProviderFailed,
        settings.redis_url,
        timeout_s=min(timeout, 0.5),
        on_state=on_state,
    )

    def on_sync() -> None:
        if metrics is None:
            return
        for studio, health in board.view().items():
            metrics.health_latency.labels(studio).set(health.latency_ms)
            metrics.health_errors.labels(studio).set(health.current_error_rate(health.updated))

    replica_id = f"{settings.replica}-{os.getpid()}"
    board = HealthBoard(
        replica_id, redis, settings.router_health_sync_s, min(timeout, 0.5), on_sync
    )
    budget: RetryBudget = (
        RetryBudget(settings.router_budget_ratio, settings.router_budget_min_per_s)
        if mechanisms.retry_budget
        else Unlimited()
    )
    pools: list[HttpPool] = []
    clients: dict[str, ProviderClient] = {}
    signer = settings.signer()
    for studio, urls in studios.items():
        pool = HttpPool(urls, size=settings.router_pool, signer=signer)
        pools.append(pool)
        clients[studio] = ProviderClient(studio, pool, mechanisms, breakers, budget, board, metrics)
        on_state(studio, 0)
    return Runtime(Router(clients, mechanisms, board, metrics), board, breakers, pools, redis)
