"""The FastAPI app every service starts from: ``/health``, ``/metrics``, request metrics.

Each service registers its dependency checks; ``/health`` answers 200 when all
are ``"ok"`` and 503 otherwise (readiness), with the check results in the body.
Request latency is recorded per route template (``/api/games/{game}/launch``),
never per raw path, so the metric's cardinality stays bounded.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spikekit.reference_platform.settings import ServiceSettings

Check = Callable[[], Awaitable[str]]
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The per-service Prometheus registry and the request metrics every service has."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.service = service
        self.requests = Histogram(
            "http_request_duration_seconds",
            "Request latency by route template and status class",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "http_request_errors_total",
            "Requests answered with a 5xx status",
            ["route", "method"],
            registry=self.registry,
        )


class RequestMetrics:
    """Pure ASGI middleware (no per-request task, unlike ``@app.middleware``) that records
    latency per route template and status class, and 5xx answers."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            if route not in _UNMEASURED:
                method = str(scope["method"])
                self.metrics.requests.labels(route, method, f"{status // 100}xx").observe(
                    time.perf_counter() - started
                )
                if status >= 500:
                    self.metrics.errors.labels(route, method).inc()


_UNMEASURED = frozenset({"/metrics", "/health"})


def service_app(
    settings: ServiceSettings,
    title: str,
    checks: Mapping[str, Check],
    metrics: ServiceMetrics | None = None,
    **fastapi_kwargs: object,
) -> tuple[FastAPI, ServiceMetrics]:
    """A FastAPI app with ``/health`` and ``/metrics`` and request metrics middleware."""
    metrics = metrics or ServiceMetrics(settings.service)
    app = FastAPI(title=title, **fastapi_kwargs)  # type: ignore[arg-type]

    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        results = {name: await check() for name, check in checks.items()}
        ready = all(value == "ok" for value in results.values())
        body = {
            "status": "ok" if ready else "degraded",
            "service": settings.service,
            "replica": settings.replica,
            "profile": settings.profile,
            "checks": results,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app, metrics
