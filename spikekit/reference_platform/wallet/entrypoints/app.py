"""The wallet's ASGI app: ``create_app()`` is the factory the supervisor runs."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI

from spikekit.reference_platform.common.checks import Check, postgres_check, redis_check
from spikekit.reference_platform.common.limits import BodyLimit
from spikekit.reference_platform.common.service_app import service_app
from spikekit.reference_platform.wallet.bootstrap import bootstrap
from spikekit.reference_platform.wallet.entrypoints.errors import install_error_handlers
from spikekit.reference_platform.wallet.entrypoints.hot_path import HotPath
from spikekit.reference_platform.wallet.entrypoints.routes import WalletContext, players, providers
from spikekit.reference_platform.wallet.metrics import WalletMetrics
from spikekit.reference_platform.wallet.service_layer.handlers import UnitOfWorkFactory
from spikekit.reference_platform.wallet.settings import WalletSettings

DESCRIPTION = """\
The ledger of the spikekit reference platform. Game providers call the signed
seamless-wallet API (balance, debit, credit, rollback), signed with each studio's
secret; the gateway and the payments service call the internal player API, signed
with the calling service's key (X-Spikekit-*). Amounts are integer minor units.
See docs/wallet-api.md for signing, idempotency and error codes, docs/security.md
for who may call what.
"""


NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    settings: WalletSettings | None = None, uow: UnitOfWorkFactory | None = None
) -> FastAPI:
    """The wallet app; settings from ``SPIKEKIT_*`` unless given, a fake ``uow`` for tests."""
    settings = settings or WalletSettings()
    timeout = settings.dependency_timeout_s
    checks: dict[str, Check] = {}
    ctx: WalletContext | None = None

    def pool() -> object:
        runtime = ctx.runtime if ctx is not None else None
        return runtime.database.pool if runtime and runtime.database else None

    def redis() -> aioredis.Redis | None:
        runtime = ctx.runtime if ctx is not None else None
        return runtime.redis if runtime else None

    if uow is None and settings.database_url:
        checks["postgres"] = postgres_check(pool, timeout)
    if uow is None and settings.redis_url:
        checks["redis"] = redis_check(redis, timeout)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        assert ctx is not None
        ctx.runtime = await bootstrap(settings, ctx.metrics, uow)
        # Everything alive now lives as long as the process: keep it out of the
        # collector's full passes (else one pause takes tens of ms at the tail).
        gc.freeze()
        try:
            yield
        finally:
            runtime, ctx.runtime = ctx.runtime, None
            await runtime.close()

    app, base = service_app(
        settings,
        "spikekit wallet",
        checks,
        lifespan=lifespan,
        description=DESCRIPTION,
        # nothing here configures OpenTelemetry; saying so spares FastAPI from asking
        # the OpenTelemetry API (environment look-ups) on every request
        telemetry=NO_TELEMETRY,
    )
    ctx = WalletContext(settings, WalletMetrics(base))
    install_error_handlers(app)
    app.state.wallet = ctx
    app.state.verifier = settings.verifier()
    app.include_router(providers)
    app.include_router(players)
    app.add_middleware(HotPath, context=ctx)  # inside the body limit
    app.add_middleware(BodyLimit, max_bytes=settings.wallet_max_body_bytes)
    return app
