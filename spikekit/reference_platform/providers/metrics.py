"""A provider's Prometheus metrics, on the service's registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from spikekit.reference_platform.common.service_app import LATENCY_BUCKETS, ServiceMetrics


class ProviderMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        registry = base.registry
        self.rounds = Counter(
            "provider_rounds_total",
            "Rounds by outcome: won, lost, insufficient_funds, refused, rolled_back, "
            "unsettled, unknown_player",
            ["outcome"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "provider_rounds_in_flight", "Rounds being played now", registry=registry
        )
        self.rejected = Counter(
            "provider_rejected_total",
            "Requests refused at the door (capacity, rate limit, injected fault)",
            ["code", "status"],
            registry=registry,
        )
        self.wallet_latency = Histogram(
            "provider_wallet_call_seconds",
            "Wallet call latency per attempt",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.wallet_errors = Counter(
            "provider_wallet_call_errors_total",
            "Wallet call attempts without a usable answer",
            ["operation", "reason"],
            registry=registry,
        )
        self.wallet_retries = Counter(
            "provider_wallet_retries_total",
            "Wallet calls sent again with the same tx_id",
            ["operation"],
            registry=registry,
        )
        self.pending = Gauge(
            "provider_wallet_pending",
            "Rollbacks and credits given up in a round and being retried in the background",
            registry=registry,
        )
        self.fault_active = Gauge(
            "provider_faults_active",
            "Faults of this studio in force (control API)",
            registry=registry,
        )
