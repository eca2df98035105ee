"""Settings of the payments API and its workers, read from ``SPIKEKIT_PAYMENTS_*`` variables.

The resilience mechanisms are separate switches so that a test can turn one
off; left unset (``None``) each follows the profile — on in ``resilient``, off
in ``fragile`` — and :attr:`PaymentsSettings.policy` resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from spikekit.reference_platform.settings import ServiceSettings, split_urls


@dataclass(frozen=True)
class Policy:
    """The resilience mechanisms of the payment path."""

    queued: bool = True  # accept with 202 and let workers process; off: process in the request
    reclaim: bool = True  # workers take over a dead worker's entries with XAUTOCLAIM
    backpressure: bool = True  # 503 + Retry-After once the stream is longer than a bound


class PaymentsSettings(ServiceSettings):
    """E.g. ``SPIKEKIT_PAYMENTS_PROVIDER_LATENCY_S=0.05``, ``SPIKEKIT_PAYMENTS_RECLAIM=false``."""

    service: str = "payments"
    # where the wallet is: comma-separated base URLs, set by the supervisor
    wallet_urls: str = ""
    # Redis keys
    payments_stream: str = "payments.requests"
    payments_group: str = "payments-workers"
    payments_prefix: str = "payments:"
    payments_record_ttl_s: int = Field(default=7 * 86_400, ge=60)
    # API
    payments_max_body_bytes: int = Field(default=4096, ge=256)
    payments_max_queue_depth: int = Field(default=50_000, ge=1)
    payments_retry_after_s: int = Field(default=2, ge=1)
    payments_sync_timeout_s: float = Field(default=10.0, gt=0)
    # workers
    payments_batch: int = Field(default=32, ge=1, le=1000)
    payments_block_ms: int = Field(default=1000, ge=1)
    payments_reclaim_idle_s: float = Field(default=15.0, gt=0)
    payments_reclaim_interval_s: float = Field(default=1.0, gt=0)
    payments_gauge_interval_s: float = Field(default=1.0, gt=0)
    # the simulated payment provider
    payments_provider_latency_s: float = Field(default=0.02, ge=0)
    payments_provider_jitter_s: float = Field(default=0.01, ge=0)
    payments_decline_rate: float = Field(default=0.02, ge=0, le=1)
    payments_provider_seed: str = "spikekit"
    # the wallet client
    payments_wallet_connections: int = Field(default=32, ge=1, le=1000)
    payments_wallet_attempts: int = Field(default=3, ge=1, le=10)
    payments_redis_connections: int = Field(default=64, ge=2, le=1000)
    # switches; None: follow the profile
    payments_queued: bool | None = None
    payments_reclaim: bool | None = None
    payments_backpressure: bool | None = None

    @property
    def policy(self) -> Policy:
        return Policy(
            queued=self._switch(self.payments_queued),
            reclaim=self._switch(self.payments_reclaim),
            backpressure=self._switch(self.payments_backpressure),
        )

    @property
    def wallet_base_urls(self) -> list[str]:
        return split_urls(self.wallet_urls)
