"""Reporting's Prometheus metrics, on the service's registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from spikekit.reference_platform.common.service_app import LATENCY_BUCKETS, ServiceMetrics
from spikekit.reference_platform.reporting.service_layer.ports import Lag, Telemetry


class ReportingMetrics(Telemetry):
    def __init__(self, base: ServiceMetrics) -> None:
        registry = base.registry
        self.events_total = Counter(
            "reporting_events_total",
            "Wallet events read, by outcome (counted, duplicate, bad)",
            ["outcome"],
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "reporting_batch_duration_seconds",
            "Time to add one batch to the aggregates (one transaction)",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors_total = Counter(
            "reporting_dependency_errors_total",
            "Calls to PostgreSQL or Redis that failed or timed out",
            ["dependency"],
            registry=registry,
        )
        self.lag_entries = Gauge(
            "reporting_lag_entries",
            "Wallet events not processed yet: pending plus undelivered (undelivered capped)",
            registry=registry,
        )
        self.lag_pending = Gauge(
            "reporting_lag_pending", "Events delivered, not acknowledged yet", registry=registry
        )
        self.lag_seconds = Gauge(
            "reporting_lag_seconds",
            "Age of the oldest wallet event not processed yet",
            registry=registry,
        )

    def batch(self, read: int, counted: int, duplicates: int, bad: int, seconds: float) -> None:
        self.events_total.labels("counted").inc(counted)
        self.events_total.labels("duplicate").inc(duplicates)
        self.events_total.labels("bad").inc(bad)
        self.batch_seconds.observe(seconds)

    def unavailable(self, dependency: str) -> None:
        self.errors_total.labels(dependency).inc()

    def lag(self, lag: Lag) -> None:
        self.lag_entries.set(lag.entries)
        self.lag_pending.set(lag.pending)
        self.lag_seconds.set(lag.seconds)
