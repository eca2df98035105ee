"""Reporting's settings: the service settings plus stream, batch, lag and retention.

Read from ``SPIKEKIT_REPORTING_*`` variables, e.g. ``SPIKEKIT_REPORTING_BATCH=1000``.
"""

from __future__ import annotations

from pydantic import Field

from spikekit.reference_platform.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service: str = "reporting"
    reporting_stream: str = "wallet.events"  # the wallet's outbox stream
    reporting_group: str = "reporting"
    reporting_batch: int = Field(default=500, ge=1, le=10_000)
    reporting_block_ms: int = Field(default=1000, ge=1)
    # after a short batch, wait this long so the next one gathers (one transaction each)
    reporting_linger_ms: int = Field(default=250, ge=0, le=10_000)
    reporting_reclaim_idle_s: float = Field(default=30.0, gt=0)
    reporting_lag_interval_s: float = Field(default=2.0, gt=0)
    reporting_lag_cap: int = Field(default=10_000, ge=1, le=1_000_000)
    reporting_retention_s: float = Field(default=86_400.0, gt=0)
    reporting_prune_interval_s: float = Field(default=300.0, gt=0)
    reporting_pool_size: int = Field(default=4, ge=1, le=50)
