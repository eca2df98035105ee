"""Prometheus metrics of the payments API and workers, on the service's registry.

Both processes register the same families; a scrape tells them apart by the
service and replica it came from. The stream gauges are sampled by a background
task (:func:`sample_stream`), never on the request path.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import Counter, Gauge, Histogram

from spikekit.reference_platform.common.service_app import LATENCY_BUCKETS, ServiceMetrics
from spikekit.reference_platform.payments.domain import Kind, Payment, Unavailable
from spikekit.reference_platform.payments.service_layer.ports import (
    AbstractQueue,
    Admission,
    Telemetry,
)

SLOW_BUCKETS = (*LATENCY_BUCKETS, 30.0, 60.0, 120.0, 300.0)


class PaymentsMetrics(Telemetry):
    def __init__(self, base: ServiceMetrics) -> None:
        registry = base.registry
        self.accepted_total = Counter(
            "payments_accepted_total",
            "Payment requests by kind and admission (new, existing key, refused: queue full)",
            ["kind", "admission"],
            registry=registry,
        )
        self.processed_total = Counter(
            "payments_processed_total",
            "Payments brought to a final status by this process",
            ["kind", "status"],
            registry=registry,
        )
        self.failed_total = Counter(
            "payments_failed_total",
            "Failed payments by reason (provider decline, wallet refusal code)",
            ["kind", "reason"],
            registry=registry,
        )
        self.processing_seconds = Histogram(
            "payments_processing_seconds",
            "Time from picking a payment up to its final status",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.completion_seconds = Histogram(
            "payments_completion_seconds",
            "Time from acceptance to final status (queue wait included), by final status",
            ["kind", "status"],
            buckets=SLOW_BUCKETS,
            registry=registry,
        )
        self.provider_seconds = Histogram(
            "payments_provider_duration_seconds",
            "Simulated payment provider latency by operation and answer",
            ["operation", "answer"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.unavailable_total = Counter(
            "payments_dependency_errors_total",
            "Calls to Redis or the wallet that failed or timed out",
            ["dependency"],
            registry=registry,
        )
        self.reclaimed_total = Counter(
            "payments_reclaimed_entries_total",
            "Stream entries taken over from idle consumers with XAUTOCLAIM",
            registry=registry,
        )
        self.stream_depth = Gauge(
            "payments_stream_depth", "Entries in the payment stream (XLEN)", registry=registry
        )
        self.stream_pending = Gauge(
            "payments_stream_pending",
            "Entries delivered to a worker and not acknowledged (XPENDING): the group's lag",
            registry=registry,
        )

    def accepted(self, kind: Kind, admission: Admission) -> None:
        self.accepted_total.labels(kind.value, admission.value).inc()

    def finished(self, payment: Payment, processing_s: float) -> None:
        kind = payment.kind.value
        status = payment.stage.public
        self.processed_total.labels(kind, status).inc()
        if status == "failed":
            self.failed_total.labels(kind, payment.reason or "unknown").inc()
        self.processing_seconds.labels(kind).observe(processing_s)
        if payment.created_at:
            waited = max(payment.updated_at - payment.created_at, 0.0)
            self.completion_seconds.labels(kind, status).observe(waited)

    def unavailable(self, dependency: str) -> None:
        self.unavailable_total.labels(dependency).inc()

    def reclaimed(self, entries: int) -> None:
        self.reclaimed_total.inc(entries)

    def provider_call(self, operation: str, seconds: float, ok: bool) -> None:
        self.provider_seconds.labels(operation, "ok" if ok else "declined").observe(seconds)


async def sample_stream(queue: AbstractQueue, metrics: PaymentsMetrics, interval_s: float) -> None:
    """Refresh the depth and pending gauges every ``interval_s`` until cancelled."""
    while True:
        with contextlib.suppress(Unavailable):
            metrics.stream_depth.set(await queue.depth())
            metrics.stream_pending.set(await queue.pending())
        await asyncio.sleep(interval_s)
