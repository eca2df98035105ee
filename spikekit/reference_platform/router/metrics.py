"""The router's Prometheus metrics, on the service's registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from spikekit.reference_platform.common.service_app import LATENCY_BUCKETS, ServiceMetrics


class RouterMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        registry = base.registry
        self.latency = Histogram(
            "router_provider_call_seconds",
            "Latency of each call to a studio (every attempt)",
            ["provider", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "router_provider_errors_total",
            "Calls to a studio that failed (timeout, connection, status_5xx, status_429, open)",
            ["provider", "operation", "reason"],
            registry=registry,
        )
        self.breaker = Gauge(
            "router_breaker_state",
            "Circuit breaker per studio: 0 closed, 1 half-open, 2 open",
            ["provider"],
            registry=registry,
        )
        self.failovers = Counter(
            "router_failovers_total",
            "Launches and rounds moved to another studio after this one failed",
            ["operation", "from_provider"],
            registry=registry,
        )
        self.retries = Counter(
            "router_retries_total",
            "Calls sent again to the same studio",
            ["provider", "operation"],
            registry=registry,
        )
        self.budget_exhausted = Counter(
            "router_retry_budget_exhausted_total",
            "Retries not made because the retry budget was empty",
            registry=registry,
        )
        self.no_provider = Counter(
            "router_no_provider_total",
            "Launches and rounds no studio could serve (503)",
            ["operation"],
            registry=registry,
        )
        self.health_latency = Gauge(
            "router_provider_health_latency_ms",
            "Latency EWMA per studio (shared view)",
            ["provider"],
            registry=registry,
        )
        self.health_errors = Gauge(
            "router_provider_health_error_rate",
            "Error-rate EWMA per studio (shared view, decayed with age)",
            ["provider"],
            registry=registry,
        )
