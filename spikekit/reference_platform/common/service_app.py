"""The FastAPI app every service starts from: ``/health``, ``/metrics``, request metrics.

Each service registers its dependency checks; ``/health`` answers 200 when all
are ``"ok"`` and 503 otherwise (readiness), with the check results in the body.
Request latency is recorded per route template (``/api/games/{game}/launch``),
never per raw path, so the metric's cardinality stays bounded.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.routing import Match

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


def _route_template(request: Request) -> str:
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return str(getattr(route, "path", request.url.path))
    return "unmatched"


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

    @app.middleware("http")
    async def record(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)
        if route not in ("/metrics", "/health"):
            status = f"{response.status_code // 100}xx"
            metrics.requests.labels(route, request.method, status).observe(
                time.perf_counter() - started
            )
            if response.status_code >= 500:
                metrics.errors.labels(route, request.method).inc()
        return response

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
