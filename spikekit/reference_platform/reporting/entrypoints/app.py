"""The reporting service's ASGI app: the consumer runs in the lifespan, a small read API on top.

``create_app()`` is the factory the supervisor runs. ``GET /v1/aggregates?minutes=N``
answers the last N minutes' aggregates and the current lag. The wallet never
waits on any of this: reporting reads the stream the wallet's relay writes.
See docs/reporting.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from spikekit.reference_platform.common.checks import Check, postgres_check, redis_check
from spikekit.reference_platform.common.service_app import ServiceMetrics, service_app
from spikekit.reference_platform.common.tasks import stop_task
from spikekit.reference_platform.reporting.adapters.metrics import ReportingMetrics
from spikekit.reference_platform.reporting.adapters.postgres import prune, read_minutes
from spikekit.reference_platform.reporting.bootstrap import Running, connect
from spikekit.reference_platform.reporting.entrypoints.schemas import (
    Aggregate,
    Aggregates,
    LagView,
)
from spikekit.reference_platform.reporting.service_layer.consumer import watch_lag
from spikekit.reference_platform.reporting.service_layer.ports import Unavailable
from spikekit.reference_platform.reporting.settings import ReportingSettings

STOP_TIMEOUT_S = 3.0
MAX_MINUTES = 1440  # a day
Minutes = Annotated[int, Query(ge=1, le=MAX_MINUTES, description="how many minutes back")]


def window_start(now: float, minutes: int) -> datetime:
    """The first minute of the last ``minutes`` minutes, the current one included."""
    return datetime.fromtimestamp((int(now // 60) - (minutes - 1)) * 60, tz=UTC)


async def _every(interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(interval_s)
        with contextlib.suppress(Unavailable):
            await job()


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    live: dict[str, Running] = {}
    tasks: dict[str, asyncio.Task[None]] = {}
    timeout = settings.dependency_timeout_s

    async def consumer_alive() -> str:
        task = tasks.get("consumer")
        return "ok" if task is not None and not task.done() else "down: consumer not running"

    checks: dict[str, Check] = {
        "postgres": postgres_check(lambda: live["r"].pool if live else None, timeout),
        "redis": redis_check(lambda: live["r"].redis if live else None, timeout),
        "consumer": consumer_alive,
    }
    base = ServiceMetrics(settings.service)
    metrics = ReportingMetrics(base)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with connect(settings, metrics) as running:
            live["r"] = running
            tasks["consumer"] = asyncio.create_task(running.consumer.run(), name="reporting")
            tasks["lag"] = asyncio.create_task(
                watch_lag(running.stream, metrics, settings.reporting_lag_interval_s)
            )
            tasks["prune"] = asyncio.create_task(
                _every(
                    settings.reporting_prune_interval_s,
                    lambda: prune(running.pool, settings.reporting_retention_s, timeout),
                )
            )
            try:
                yield
            finally:
                running.consumer.stop()
                await stop_task(tasks.pop("consumer"), STOP_TIMEOUT_S)
                for name in ("lag", "prune"):
                    await stop_task(tasks.pop(name))
                live.clear()

    app, _ = service_app(settings, "spikekit reporting", checks, metrics=base, lifespan=lifespan)

    @app.exception_handler(Unavailable)
    async def unavailable(_: Request, error: Exception) -> JSONResponse:
        body = {"error": {"code": "UNAVAILABLE", "message": str(error), "details": []}}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})

    @app.get("/v1/aggregates", response_model=Aggregates, tags=["reporting"])
    async def aggregates(
        minutes: Minutes = 60,
    ) -> Aggregates:
        """Per-minute bets, wins, GGR and active players of the last ``minutes`` minutes."""
        if not live:
            raise Unavailable("reporting", "starting or stopping")
        running = live["r"]
        rows = await read_minutes(running.pool, window_start(time.time(), minutes), timeout)
        lag: LagView | None = None
        with contextlib.suppress(Unavailable):
            current = await running.stream.lag()
            lag = LagView(entries=current.entries, pending=current.pending, seconds=current.seconds)
        return Aggregates(minutes=[Aggregate.of(m, t) for m, t in rows], lag=lag)

    return app
