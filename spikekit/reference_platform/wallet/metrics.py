"""The wallet's own Prometheus metrics, registered on the service's registry."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from spikekit.reference_platform.common.service_app import LATENCY_BUCKETS, ServiceMetrics


class WalletMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        registry = base.registry
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
        self.outbox_errors = Counter(
            "wallet_outbox_errors_total", "Failed outbox relay attempts", registry=registry
        )

    def watch_pool(self, in_use: Callable[[], int], size: int) -> None:
        self.pool_in_use.set_function(in_use)
        self.pool_size.set(size)
