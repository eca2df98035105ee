"""The wallet's settings: the service settings plus pool, timeouts, limits and provider secrets."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from spikekit.reference_platform.settings import ServiceSettings
from spikekit.reference_platform.wallet.domain import PAYMENTS

PROVIDER_NAME = r"^[a-z][a-z0-9-]{0,31}$"
# Development secrets of the simulated studios, for a wallet started by hand: the stack
# supervisor draws new ones at every start (SPIKEKIT_WALLET_PROVIDER_SECRETS), as a real
# deployment sets its own. See docs/security.md.
DEFAULT_PROVIDER_SECRETS = {
    "aurora": "aurora-wallet-secret",
    "blitz": "blitz-wallet-secret",
    "cobalt": "cobalt-wallet-secret",
}


class WalletSettings(ServiceSettings):
    """Read from ``SPIKEKIT_*`` variables, e.g. ``SPIKEKIT_WALLET_POOL_SIZE=16``."""

    service: str = "wallet"
    wallet_pool_size: int = Field(default=16, ge=1, le=200)
    wallet_db_timeout_s: float = Field(default=2.0, gt=0)
    wallet_request_timeout_s: float = Field(default=5.0, gt=0)
    wallet_max_body_bytes: int = Field(default=16_384, ge=256)
    wallet_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    wallet_stream: str = "wallet.events"
    wallet_stream_maxlen: int = Field(default=1_000_000, ge=1_000)
    wallet_outbox_batch: int = Field(default=500, ge=1, le=10_000)
    wallet_outbox_interval_s: float = Field(default=0.5, gt=0)  # poll without a commit
    wallet_outbox_linger_s: float = Field(default=0.1, ge=0, le=5)  # a commit's batch gathers
    # queue serialization: money requests arriving together share one transaction
    wallet_batching: bool = True  # resilient profile only; the fragile one never batches
    wallet_batch_max_size: int = Field(default=128, ge=1, le=10_000)
    wallet_batch_inflight: int = Field(default=4, ge=1, le=200)
    wallet_batch_window_ms: float = Field(default=0.0, ge=0, le=1_000)
    wallet_batch_optimistic: bool = True  # read without locks, write if nothing moved
    wallet_provider_secrets: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROVIDER_SECRETS)
    )

    @field_validator("wallet_provider_secrets")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, secret in value.items():
            if name == PAYMENTS or not re.fullmatch(PROVIDER_NAME, name) or not secret:
                raise ValueError(f"provider {name!r}: a lowercase name other than {PAYMENTS!r}")
        return value
