"""A provider process's settings: which studio it is, where the wallet is, timeouts and retries."""

from __future__ import annotations

from pydantic import Field

from spikekit.reference_platform.providers.catalogue import STUDIOS, Studio
from spikekit.reference_platform.settings import ServiceSettings, split_urls
from spikekit.reference_platform.wallet.settings import DEFAULT_PROVIDER_SECRETS


class ProviderSettings(ServiceSettings):
    """Read from ``SPIKEKIT_*`` variables; the studio is the service name minus ``provider-``."""

    service: str = "provider-aurora"
    wallet_urls: str | None = Field(default=None, description="comma-separated base URLs")
    provider_wallet_timeout_s: float = Field(default=1.0, gt=0, description="per wallet call")
    provider_wallet_attempts: int = Field(default=3, ge=1, le=20, description="same tx_id")
    provider_wallet_backoff_s: float = Field(default=0.05, ge=0)
    provider_wallet_pool: int = Field(default=64, ge=1, le=1024)
    provider_reconcile_interval_s: float = Field(default=0.5, gt=0)
    provider_reconcile_max_age_s: float = Field(default=600.0, gt=0)
    provider_seed: int = 20261127
    provider_rtp: float | None = Field(default=None, gt=0, le=1)
    provider_capacity: int | None = Field(default=None, ge=1)
    provider_think_ms: float | None = Field(default=None, ge=0)
    provider_rate_limit_rps: float | None = Field(default=None, gt=0)
    provider_wallet_secret: str | None = None
    provider_session_secret: str = "spikekit-provider-sessions"
    provider_max_body_bytes: int = Field(default=16_384, ge=256)
    provider_bet_and_settle: bool = Field(
        default=True, description="an instant round's bet and win in one wallet call"
    )

    @property
    def studio(self) -> Studio:
        """The studio's profile, with any override from the settings."""
        name = self.service.removeprefix("provider-")
        base = STUDIOS.get(name) or Studio(name, 128, 20, 10, None, 0.96)
        return Studio(
            name=name,
            capacity=self.provider_capacity or base.capacity,
            think_ms=base.think_ms if self.provider_think_ms is None else self.provider_think_ms,
            jitter_ms=base.jitter_ms if self.provider_think_ms is None else 0.0,
            rate_limit_rps=self.provider_rate_limit_rps or base.rate_limit_rps,
            rtp=self.provider_rtp or base.rtp,
        )

    @property
    def wallet_secret(self) -> str | None:
        name = self.service.removeprefix("provider-")
        return self.provider_wallet_secret or DEFAULT_PROVIDER_SECRETS.get(name)

    @property
    def wallet_base_urls(self) -> list[str]:
        return split_urls(self.wallet_urls)
