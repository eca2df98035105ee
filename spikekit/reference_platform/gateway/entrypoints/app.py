"""The gateway's ASGI app: the players' API of docs/gateway-api.md.

``create_app()`` is the factory the supervisor runs; tests may pass their own
:class:`GatewaySettings`. Connections open in the lifespan, never at import.
Middleware, outermost first: :class:`Backpressure` (the in-flight bound, before
any work), :class:`BodyLimit`, the request metrics every service has, the hot routes
answered without FastAPI's machinery (:mod:`.fast`).
``/health`` checks Redis (and PostgreSQL when a stack gives the gateway a
database link, as some test stacks do); not the other services, so that a
dependency's outage shows as errors on the routes that need it rather than as
the whole gateway being unready.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as aioredis
from fastapi import FastAPI

from spikekit.reference_platform.common.checks import Check, postgres_check, redis_check
from spikekit.reference_platform.common.connections import create_pool
from spikekit.reference_platform.common.errors import PUBLIC
from spikekit.reference_platform.common.limits import BodyLimit
from spikekit.reference_platform.common.service_app import ServiceMetrics, fast_routes, service_app
from spikekit.reference_platform.gateway.adapters.metrics import GatewayMetrics
from spikekit.reference_platform.gateway.bootstrap import Running, connect
from spikekit.reference_platform.gateway.entrypoints.errors import (
    Backpressure,
    install_error_handlers,
)
from spikekit.reference_platform.gateway.entrypoints.fast import add_fast_routes
from spikekit.reference_platform.gateway.entrypoints.routes import routes
from spikekit.reference_platform.gateway.service_layer.backpressure import InFlightBound
from spikekit.reference_platform.gateway.settings import GatewaySettings

DESCRIPTION = """\
The players' API of the spikekit reference platform: register, login, lobby,
launch a game, play rounds, balance, deposits and withdrawals. Stateless: any
number of replicas. Amounts are integer minor units. See docs/gateway-api.md.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    live: dict[str, Running] = {}
    pools: dict[str, asyncpg.Pool] = {}
    timeout = settings.dependency_timeout_s
    checks: dict[str, Check] = {}
    if settings.redis_url:
        checks["redis"] = redis_check(_redis_of(live), timeout)
    if settings.database_url:
        checks["postgres"] = postgres_check(lambda: pools.get("db"), timeout)
    base = ServiceMetrics(settings.service)
    metrics = GatewayMetrics(base.registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.database_url:
            pools["db"] = await create_pool(
                settings.database_url, settings.service, min_size=0, max_size=1, timeout=timeout
            )
        try:
            async with connect(settings, metrics) as running:
                live["gateway"] = running
                app.state.gateway = running.gateway
                try:
                    yield
                finally:
                    app.state.gateway = None
                    live.clear()
        finally:
            if "db" in pools:
                await pools.pop("db").close()

    app, _ = service_app(
        settings,
        "spikekit gateway",
        checks,
        metrics=base,
        lifespan=lifespan,
        description=DESCRIPTION,
    )
    app.state.gateway = None
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(routes)
    add_fast_routes(fast_routes(app))
    app.add_middleware(BodyLimit, max_bytes=settings.gateway_max_body_bytes, fmt=PUBLIC)
    bound = InFlightBound(
        settings.policy.max_in_flight,
        on_change=metrics.in_flight.set,
        on_reject=metrics.rejected.inc,
    )
    app.add_middleware(Backpressure, bound=bound, retry_after_s=settings.gateway_retry_after_s)
    return app


def _redis_of(live: dict[str, Running]) -> Callable[[], aioredis.Redis | None]:
    return lambda: live["gateway"].redis if "gateway" in live else None
