"""Wiring: settings in, the :class:`~.service_layer.handlers.Gateway` and what to close out.

:func:`bootstrap` is pure wiring of given ports (unit tests pass fakes);
:func:`connect` builds the real ones — one bounded connection pool per
dependency over its ``SPIKEKIT_<DEP>_URLS`` (round robin; each signs its calls with the
gateway's key, since every dependency has operations only the gateway may run; without
bulkheads the pools share one budget of connections), a Redis client with
a short timeout — and closes them on the way out. A dependency without URLs is
:class:`~.adapters.clients.NotConfigured` (its routes answer 503), so a gateway
started alone still serves ``/health``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from spikekit.reference_platform.auth.service_layer.cache import ValidationCache
from spikekit.reference_platform.common.connections import redis_client
from spikekit.reference_platform.common.http_client import HttpPool
from spikekit.reference_platform.common.service_auth import caller_of, services_called_by
from spikekit.reference_platform.gateway.adapters.clients import (
    AuthClient,
    NotConfigured,
    PaymentsClient,
    RouterClient,
    WalletClient,
)
from spikekit.reference_platform.gateway.adapters.lobby_cache import (
    DirectLobby,
    LocalLobby,
    RedisLobby,
)
from spikekit.reference_platform.gateway.adapters.metrics import GatewayMetrics
from spikekit.reference_platform.gateway.adapters.profiles import NoProfiles, RedisProfiles
from spikekit.reference_platform.gateway.adapters.upstream import Upstream
from spikekit.reference_platform.gateway.service_layer.handlers import Gateway
from spikekit.reference_platform.gateway.service_layer.ports import (
    AuthPort,
    LobbyPort,
    PaymentsPort,
    ProfilesPort,
    RouterPort,
    WalletPort,
)
from spikekit.reference_platform.gateway.settings import GatewaySettings


def bootstrap(
    settings: GatewaySettings,
    *,
    auth: AuthPort,
    wallet: WalletPort,
    router: RouterPort,
    payments: PaymentsPort,
    lobby: LobbyPort,
    profiles: ProfilesPort,
    metrics: GatewayMetrics | None = None,
) -> Gateway:
    policy = settings.policy
    sessions = (
        ValidationCache(settings.gateway_session_cache_ttl_s, settings.gateway_session_cache_size)
        if policy.session_cache
        else None
    )

    def on_lookup(hit: bool) -> None:
        if metrics is not None:
            metrics.session_cache.labels("hit" if hit else "miss").inc()

    return Gateway(
        auth=auth,
        wallet=wallet,
        router=router,
        payments=payments,
        lobby=lobby,
        profiles=profiles,
        sessions=sessions,
        on_session_lookup=on_lookup,
    )


@dataclass
class Running:
    """The live gateway: its handlers, and what the app needs besides (health, closing)."""

    gateway: Gateway
    redis: aioredis.Redis | None
    upstreams: list[Upstream] = field(default_factory=list)
    lobby: RedisLobby | None = None

    async def close(self) -> None:
        if self.lobby is not None:
            await self.lobby.aclose()
        for upstream in self.upstreams:
            await upstream.aclose()
        if self.redis is not None:
            await self.redis.aclose()


@asynccontextmanager
async def connect(settings: GatewaySettings, metrics: GatewayMetrics) -> AsyncIterator[Running]:
    policy = settings.policy
    redis_timeout = settings.gateway_redis_timeout_s
    redis = (
        redis_client(settings.redis_url, redis_timeout, max_connections=settings.gateway_pool_size)
        if settings.redis_url
        else None
    )
    upstreams: dict[str, Upstream] = {}
    # without bulkheads one dependency's slow calls take every connection from the others
    shared = None if policy.bulkheads else asyncio.Semaphore(settings.gateway_pool_size)
    signer = settings.signer()
    signed = services_called_by(caller_of(settings.service))  # all four
    for name in ("auth", "wallet", "router", "payments"):
        urls = settings.base_urls(name)
        if urls:
            timeout = policy.router_timeout_s if name == "router" else policy.timeout_s
            sign = signer if name in signed else None
            pool = HttpPool(urls, size=settings.gateway_pool_size, slots=shared, signer=sign)
            upstreams[name] = Upstream(name, pool, timeout, metrics)

    up = upstreams.get
    auth: AuthPort = AuthClient(u) if (u := up("auth")) else NotConfigured("auth")
    wallet: WalletPort = WalletClient(u) if (u := up("wallet")) else NotConfigured("wallet")
    router: RouterPort = RouterClient(u) if (u := up("router")) else NotConfigured("router")
    payments: PaymentsPort = (
        PaymentsClient(u) if (u := up("payments")) else NotConfigured("payments")
    )
    lobby: RedisLobby | None = None
    if redis is not None and policy.lobby_cache:
        lobby = RedisLobby(
            redis,
            f"{settings.gateway_redis_prefix}lobby",
            ttl_s=settings.gateway_lobby_ttl_s,
            stale_s=settings.gateway_lobby_stale_s,
            lock_s=settings.gateway_lobby_lock_s,
            wait_s=settings.gateway_lobby_wait_s,
            timeout_s=redis_timeout,
            metrics=metrics,
        )
    lobby_port: LobbyPort = lobby if lobby is not None else DirectLobby()
    if lobby is not None and settings.gateway_lobby_local_ttl_s > 0:
        lobby_port = LocalLobby(lobby, settings.gateway_lobby_local_ttl_s, metrics)
    profiles: ProfilesPort = (
        RedisProfiles(redis, settings.gateway_redis_prefix, redis_timeout)
        if redis is not None
        else NoProfiles()
    )
    gateway = bootstrap(
        settings,
        auth=auth,
        wallet=wallet,
        router=router,
        payments=payments,
        lobby=lobby_port,
        profiles=profiles,
        metrics=metrics,
    )
    running = Running(gateway, redis, list(upstreams.values()), lobby)
    try:
        yield running
    finally:
        await running.close()
