"""The gateway's settings: where its dependencies are, and each resilience mechanism.

Read from ``SPIKEKIT_*`` variables (``SPIKEKIT_GATEWAY_MAX_IN_FLIGHT=64``). Each
mechanism is its own switch; left unset (``None``) it follows the profile — on in
``resilient``, off in ``fragile`` — and :attr:`GatewaySettings.policy` resolves them:

| mechanism | switch | resilient | fragile |
|---|---|---|---|
| in-flight bound, 503 + Retry-After beyond it | ``GATEWAY_BACKPRESSURE`` | on | no bound |
| short timeouts on outbound calls | ``GATEWAY_SHORT_TIMEOUTS`` | 2 s (router 6 s) | none |
| lobby cached (1 s in process, 10 s in Redis) | ``GATEWAY_LOBBY_CACHE`` | on | router |
| session validations cached in-process | ``GATEWAY_SESSION_CACHE`` | on | every call asks auth |
| a connection pool per dependency (bulkheads) | ``GATEWAY_BULKHEADS`` | on | one for all |
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from spikekit.reference_platform.settings import ServiceSettings, split_urls


@dataclass(frozen=True)
class Policy:
    """The gateway's resilience mechanisms, resolved from settings and profile."""

    max_in_flight: int | None  # None: no bound (requests queue)
    timeout_s: float | None  # auth, wallet, payments; None: wait as long as they take
    router_timeout_s: float | None  # the router retries and fails over inside its own budget
    lobby_cache: bool
    session_cache: bool
    bulkheads: bool = True  # False: one connection budget shared by every dependency


class GatewaySettings(ServiceSettings):
    service: str = "gateway"
    # where the dependencies are: comma-separated base URLs (``SPIKEKIT_<DEP>_URLS``)
    auth_urls: str = ""
    wallet_urls: str = ""
    router_urls: str = ""
    payments_urls: str = ""
    # backpressure
    gateway_max_in_flight: int = Field(default=256, ge=1, le=100_000)
    gateway_retry_after_s: int = Field(default=1, ge=1, le=3600)
    # outbound calls
    gateway_timeout_s: float = Field(default=2.0, gt=0)
    gateway_router_timeout_s: float = Field(default=6.0, gt=0)
    gateway_fragile_timeout_s: float | None = Field(
        default=None, gt=0, description="without short timeouts; unset: no timeout at all"
    )
    gateway_pool_size: int = Field(default=64, ge=1, le=4096, description="per dependency")
    gateway_redis_timeout_s: float = Field(default=0.5, gt=0)
    # lobby cache: fresh for ttl, then served stale while one caller refreshes it
    gateway_lobby_ttl_s: float = Field(default=10.0, gt=0)
    gateway_lobby_stale_s: float = Field(default=120.0, ge=0)
    gateway_lobby_lock_s: float = Field(default=5.0, gt=0)
    gateway_lobby_wait_s: float = Field(default=1.0, ge=0)
    gateway_lobby_local_ttl_s: float = Field(
        default=1.0, ge=0, description="in-process copy in front of Redis; 0: none"
    )
    gateway_redis_prefix: str = "gateway:"
    # session validation cache (per replica): a player's next request, 1-5 s of thinking
    # later, is answered without asking auth. The bound it costs: a logout through another
    # replica (or a session revoked in auth) is honoured here at most this long after
    # (auth's own cache, AUTH_CACHE_TTL_S, adds its 5 s); a logout through this replica at
    # once, and never past the session's end.
    gateway_session_cache_ttl_s: float = Field(default=6.0, gt=0)
    gateway_session_cache_size: int = Field(default=50_000, ge=1)
    # requests
    gateway_max_body_bytes: int = Field(default=4096, ge=256)
    gateway_trust_forwarded_for: bool = Field(
        default=True,
        description="pass the caller's X-Forwarded-For on to auth (the gateway sits behind "
        "the platform's edge, which the load engine plays); off: only the TCP peer",
    )
    # switches; None: follow the profile
    gateway_backpressure: bool | None = None
    gateway_short_timeouts: bool | None = None
    gateway_lobby_cache: bool | None = None
    gateway_session_cache: bool | None = None
    gateway_bulkheads: bool | None = None

    @property
    def policy(self) -> Policy:
        short = self._switch(self.gateway_short_timeouts)
        long = self.gateway_fragile_timeout_s
        return Policy(
            max_in_flight=(
                self.gateway_max_in_flight if self._switch(self.gateway_backpressure) else None
            ),
            timeout_s=self.gateway_timeout_s if short else long,
            router_timeout_s=self.gateway_router_timeout_s if short else long,
            lobby_cache=self._switch(self.gateway_lobby_cache),
            session_cache=self._switch(self.gateway_session_cache),
            bulkheads=self._switch(self.gateway_bulkheads),
        )

    def base_urls(self, dependency: str) -> list[str]:
        """The base URLs of ``auth``, ``wallet``, ``router`` or ``payments`` (maybe none)."""
        return split_urls(getattr(self, f"{dependency}_urls"))
