"""Settings of one service process, read from ``SPIKEKIT_*`` variables set by the supervisor."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from spikekit.reference_platform.common.service_auth import Signer, Verifier, caller_of


class ServiceSettings(BaseSettings):
    """What a service process is told by the supervisor; built in each app factory."""

    model_config = SettingsConfigDict(env_prefix="SPIKEKIT_", extra="ignore")

    service: str = "service"
    replica: int = 0
    port: int = 0
    profile: str = "resilient"
    database_url: str | None = None
    redis_url: str | None = None
    dependency_timeout_s: float = 2.0
    # service authentication (docs/security.md), the same in every profile
    caller_key: str = Field(
        default="", repr=False, description="this service's key when it calls others"
    )
    caller_keys: dict[str, list[str]] = Field(
        default_factory=dict,
        repr=False,
        description="the keys of the callers this service accepts, JSON "
        '{"payments": ["current", "previous"]}; a caller missing here gets 401',
    )

    @property
    def fragile(self) -> bool:
        return self.profile == "fragile"

    def _switch(self, value: bool | None) -> bool:
        """A resilience mechanism: as set, else on unless the profile is ``fragile``."""
        return (not self.fragile) if value is None else value

    def signer(self) -> Signer | None:
        """How this service signs its calls; None without a key (its calls get 401)."""
        return Signer(caller_of(self.service), self.caller_key) if self.caller_key else None

    def verifier(self) -> Verifier:
        """How this service checks its callers (nobody is accepted without keys)."""
        return Verifier.of(self.service, self.caller_keys)


def split_urls(raw: str | None) -> list[str]:
    """Comma-separated base URLs (``SPIKEKIT_<DEP>_URLS``), without a trailing ``/``."""
    return [url.strip().rstrip("/") for url in (raw or "").split(",") if url.strip()]
