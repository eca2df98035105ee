"""The wallet's own Prometheus metrics, registered on the service's registry."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from spikekit.reference_platform.common.service_app import LATENCY_BUCKETS, ServiceMetrics


class WalletMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        registry = base.registry
        self._children: dict[tuple[str, str], tuple[Histogram, Counter]] = {}
        self.base = base  # the request metrics, for the routes served outside FastAPI
        self.latency = Histogram(
            "wallet_transaction_duration_seconds",
            "Wallet transaction latency by operation, storage included",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.outcomes = Counter(
            "wallet_transactions_total",
            "Wallet transactions by operation and outcome (OK, a refusal code, replayed, "
            "rejected, unavailable)",
            ["operation", "outcome"],
            registry=registry,
        )
        self.pool_in_use = Gauge(
            "wallet_db_pool_in_use", "Database connections in use", registry=registry
        )
        self.pool_size = Gauge(
            "wallet_db_pool_size", "Maximum database connections", registry=registry
        )
        self.outbox_backlog = Gauge(
            "wallet_outbox_backlog", "Wallet events not yet published", registry=registry
        )
        self.outbox_published = Counter(
            "wallet_outbox_published_total", "Wallet events published", registry=registry
        )
        self.batch_size = Histogram(
            "wallet_batch_size",
            "Money requests applied per database transaction (queue serialization)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=registry,
        )
        self.outbox_errors = Counter(
            "wallet_outbox_errors_total", "Failed outbox relay attempts", registry=registry
        )

    def observe(self, operation: str, outcome: str, seconds: float) -> None:
        """One money request's latency and outcome (the labelled children cached)."""
        children = self._children.get((operation, outcome))
        if children is None:
            children = self.latency.labels(operation), self.outcomes.labels(operation, outcome)
            self._children[(operation, outcome)] = children
        children[0].observe(seconds)
        children[1].inc()

    def watch_pool(self, in_use: Callable[[], int], size: int) -> None:
        self.pool_in_use.set_function(in_use)
        self.pool_size.set(size)
