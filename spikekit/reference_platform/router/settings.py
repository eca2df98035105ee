"""The router's settings. Each resilience mechanism is its own switch; unset, the profile decides.

``resilient``: health routing, circuit breakers, failover and a retry budget on, a
short timeout. ``fragile``: all four off, no timeout at all (the default of most HTTP
client libraries) and retries without a budget: the timeout chain that ties up workers
while one studio is down, and a call whose answer was lost waits forever.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from pydantic import Field

from spikekit.reference_platform.settings import ServiceSettings, split_urls

_PROVIDER_URLS = re.compile(r"^SPIKEKIT_PROVIDER_([A-Z0-9_]+)_URLS$")


@dataclass(frozen=True)
class Mechanisms:
    health_routing: bool
    breakers: bool
    failover: bool
    retry_budget: bool
    safe_rounds: bool  # never replay a round a studio may have played (retry or failover)
    timeout_s: float | None  # None: no timeout, a call waits as long as the studio does
    attempts: int  # per studio, the first call included


class RouterSettings(ServiceSettings):
    """Read from ``SPIKEKIT_*``; studios from ``SPIKEKIT_PROVIDER_<NAME>_URLS``."""

    service: str = "router"
    router_health_routing: bool | None = None
    router_breakers: bool | None = None
    router_failover: bool | None = None
    router_retry_budget: bool | None = None
    router_safe_rounds: bool | None = None
    router_timeout_s: float | None = Field(default=None, gt=0, description="unset: profile's")
    router_attempts: int | None = Field(default=None, ge=1, le=20)
    router_budget_ratio: float = Field(default=0.2, ge=0, le=1, description="retries/requests")
    router_budget_min_per_s: float = Field(default=5.0, ge=0)
    router_breaker_threshold: int = Field(default=5, ge=1)
    router_breaker_open_s: float = Field(default=5.0, gt=0, description="before a half-open try")
    router_health_sync_s: float = Field(default=0.5, gt=0)
    router_pool: int = Field(default=128, ge=1, le=4096)
    router_max_body_bytes: int = Field(default=16_384, ge=256)
    provider_urls: dict[str, str] = Field(
        default_factory=dict, description="studio → comma-separated base URLs (merged with env)"
    )

    def mechanisms(self) -> Mechanisms:
        resilient = not self.fragile
        return Mechanisms(
            health_routing=self._switch(self.router_health_routing),
            breakers=self._switch(self.router_breakers),
            failover=self._switch(self.router_failover),
            retry_budget=self._switch(self.router_retry_budget),
            safe_rounds=self._switch(self.router_safe_rounds),
            timeout_s=self.router_timeout_s or (2.0 if resilient else None),
            attempts=self.router_attempts or (2 if resilient else 5),
        )

    def studios(self, environ: dict[str, str] | None = None) -> dict[str, list[str]]:
        """Studio → base URLs, from ``provider_urls`` and ``SPIKEKIT_PROVIDER_<NAME>_URLS``."""
        found = dict(self.provider_urls)
        for key, value in (os.environ if environ is None else environ).items():
            match = _PROVIDER_URLS.match(key)
            if match:
                found[match.group(1).lower().replace("_", "-")] = value
        return {name: split_urls(urls) for name, urls in sorted(found.items()) if urls.strip()}
