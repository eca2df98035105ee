"""Settings of one service process, read from ``SPIKEKIT_*`` variables set by the supervisor."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def fragile(self) -> bool:
        return self.profile == "fragile"

    def _switch(self, value: bool | None) -> bool:
        """A resilience mechanism: as set, else on unless the profile is ``fragile``."""
        return (not self.fragile) if value is None else value


def split_urls(raw: str | None) -> list[str]:
    """Comma-separated base URLs (``SPIKEKIT_<DEP>_URLS``), without a trailing ``/``."""
    return [url.strip().rstrip("/") for url in (raw or "").split(",") if url.strip()]
