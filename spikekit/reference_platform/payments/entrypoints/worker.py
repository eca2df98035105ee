"""The payments worker (service ``payments-worker``): an ASGI app whose lifespan runs the consumer.

It serves only ``/health`` and ``/metrics``; the work is the consumer loop of
:mod:`..service_layer.consumer`, one consumer named ``worker-<replica>-<pid>``
per process. On shutdown the loop finishes its current batch (bounded wait);
anything still pending is reclaimed by another worker (resilient profile).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from spikekit.reference_platform.common.checks import Check, redis_check
from spikekit.reference_platform.common.service_app import ServiceMetrics, service_app
from spikekit.reference_platform.common.tasks import stop_task
from spikekit.reference_platform.payments.adapters.metrics import PaymentsMetrics, sample_stream
from spikekit.reference_platform.payments.bootstrap import Running, connect, consumer_config
from spikekit.reference_platform.payments.entrypoints.api import redis_of
from spikekit.reference_platform.payments.service_layer.consumer import Consumer
from spikekit.reference_platform.payments.settings import PaymentsSettings

STOP_TIMEOUT_S = 3.0


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    settings = settings or PaymentsSettings(service="payments-worker")
    live: dict[str, Running] = {}
    tasks: dict[str, asyncio.Task[None]] = {}

    async def consumer_alive() -> str:
        loop = tasks.get("consumer")
        if loop is None:
            return "down: not started"
        return "ok" if not loop.done() else "down: the consumer loop ended"

    checks: dict[str, Check] = {
        "redis": redis_check(redis_of(live), settings.dependency_timeout_s),
        "consumer": consumer_alive,
    }
    base = ServiceMetrics(settings.service)
    metrics = PaymentsMetrics(base)
    config = consumer_config(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with connect(settings, metrics) as running:
            live["payments"] = running
            consumer = Consumer(running.queue, running.payments, config, metrics)
            loop = tasks["consumer"] = asyncio.create_task(consumer.run(), name=config.consumer)
            gauges = asyncio.create_task(
                sample_stream(running.queue, metrics, settings.payments_gauge_interval_s)
            )
            try:
                yield
            finally:
                consumer.stop()
                await stop_task(loop, STOP_TIMEOUT_S)
                await stop_task(gauges)
                del live["payments"]

    app, _ = service_app(
        settings, "spikekit payments worker", checks, metrics=base, lifespan=lifespan
    )

    @app.get("/v1/worker", include_in_schema=False)
    async def worker() -> JSONResponse:
        """Who this worker is in the consumer group (tests and operators)."""
        return JSONResponse(
            {"consumer": config.consumer, "reclaim": config.reclaim, "batch": config.batch}
        )

    return app
