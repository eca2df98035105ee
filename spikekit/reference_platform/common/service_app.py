"""The FastAPI app every service starts from: ``/health``, ``/metrics``, request metrics,
and the table of its hot routes answered without FastAPI's machinery (:mod:`.fast_routes`).

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
    ProcessCollector,
    disable_created_metrics,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spikekit.reference_platform.common.exposition import Exposition
from spikekit.reference_platform.common.fast_routes import FastRoutes, FastTable
from spikekit.reference_platform.settings import ServiceSettings

Check = Callable[[], Awaitable[str]]
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The per-service Prometheus registry and the request metrics every service has."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        # process_cpu_seconds_total & co., as every Prometheus client exposes them: the CPU
        # a platform seen only through its /metrics is judged by (about 0.1 ms a scrape)
        ProcessCollector(registry=self.registry)
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
        # the labelled children, looked up once: ``labels()`` takes a lock and builds keys
        self._latency: dict[tuple[str, str, int], Histogram] = {}
        self._errors: dict[tuple[str, str], Counter] = {}

    def observe(self, route: str, method: str, status: int, started: float) -> None:
        """One answered request: its latency since ``started`` (``perf_counter``)."""
        elapsed = time.perf_counter() - started
        status_class = status // 100
        key = (route, method, status_class)
        child = self._latency.get(key)
        if child is None:
            child = self._latency[key] = self.requests.labels(route, method, f"{status_class}xx")
        child.observe(elapsed)
        if status >= 500:
            errors = self._errors.get(key[:2])
            if errors is None:
                errors = self._errors[key[:2]] = self.errors.labels(route, method)
            errors.inc()


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
                self.metrics.observe(route, str(scope["method"]), status, started)


_UNMEASURED = frozenset({"/metrics", "/health"})


def fast_routes(app: FastAPI) -> FastTable:
    """The app's table of hot routes answered without FastAPI (:mod:`.fast_routes`)."""
    table = app.state.fast_routes
    assert isinstance(table, FastTable)
    return table


def service_app(
    settings: ServiceSettings,
    title: str,
    checks: Mapping[str, Check],
    metrics: ServiceMetrics | None = None,
    **fastapi_kwargs: object,
) -> tuple[FastAPI, ServiceMetrics]:
    """A FastAPI app with ``/health`` and ``/metrics`` and request metrics middleware."""
    # no ``*_created`` series: nothing reads them (8 % of a gateway scrape's lines)
    disable_created_metrics()  # type: ignore[no-untyped-call]
    metrics = metrics or ServiceMetrics(settings.service)
    app = FastAPI(title=title, **fastapi_kwargs)  # type: ignore[arg-type]

    app.state.fast_routes = FastTable()  # inside the request metrics: they measure both
    app.add_middleware(
        FastRoutes, table=app.state.fast_routes, exception_handlers=app.exception_handlers
    )
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

    exposition = Exposition(metrics.registry)  # generate_latest's text, for half its CPU

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(exposition.generate(), media_type=CONTENT_TYPE_LATEST)

    return app, metrics
