"""The gateway's Prometheus metrics, on the service's registry (next to the per-route ones).

- ``gateway_upstream_seconds{dependency, operation}``: each outbound call, answered or not;
- ``gateway_upstream_errors_total{dependency, operation, reason}``: ``timeout``,
  ``connection``, ``status_429``, ``status_5xx``, ``bad_answer``;
- ``gateway_upstream_connections_in_use{dependency}``: pool slots taken;
- ``gateway_in_flight``: player requests being served by this replica;
- ``gateway_backpressure_rejected_total``: requests refused with 503 by the in-flight bound;
- ``gateway_lobby_cache_total{result}``: ``local`` (this process's copy), ``hit`` (Redis),
  ``stale``, ``wait`` (served after another
  caller filled it), ``miss`` (asked the router), ``error`` (Redis failed: asked the router);
- ``gateway_session_cache_total{result}``: ``hit`` or ``miss`` of the validation cache.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from spikekit.reference_platform.common.service_app import LATENCY_BUCKETS

DEPENDENCIES = ("auth", "wallet", "router", "payments")
LOBBY_RESULTS = ("local", "hit", "stale", "wait", "miss", "error")


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.upstream_seconds = Histogram(
            "gateway_upstream_seconds",
            "Latency of the gateway's calls to its dependencies",
            ["dependency", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.upstream_errors = Counter(
            "gateway_upstream_errors",
            "Outbound calls without a usable answer, by reason",
            ["dependency", "operation", "reason"],
            registry=registry,
        )
        self.connections_in_use = Gauge(
            "gateway_upstream_connections_in_use",
            "Connection pool slots taken, per dependency",
            ["dependency"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "gateway_in_flight", "Player requests being served by this replica", registry=registry
        )
        self.rejected = Counter(
            "gateway_backpressure_rejected",
            "Requests refused with 503 + Retry-After by the in-flight bound",
            registry=registry,
        )
        self.lobby_cache = Counter(
            "gateway_lobby_cache", "How each lobby was served", ["result"], registry=registry
        )
        for result in LOBBY_RESULTS:
            self.lobby_cache.labels(result)
        self.session_cache = Counter(
            "gateway_session_cache",
            "Session validations answered by the local cache (hit) or auth (miss)",
            ["result"],
            registry=registry,
        )
        self.session_cache.labels("hit")
        self.session_cache.labels("miss")

    def track_pool(self, dependency: str, in_use: Callable[[], int]) -> None:
        self.connections_in_use.labels(dependency).set_function(lambda: float(in_use()))

    def upstream_error(self, dependency: str, operation: str, reason: str) -> None:
        self.upstream_errors.labels(dependency, operation, reason).inc()
