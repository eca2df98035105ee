"""The auth service's settings: the service settings plus argon2 cost, sessions, limits.

Read from ``SPIKEKIT_*`` variables, e.g. ``SPIKEKIT_AUTH_ARGON2_TIME_COST=3``.
The resilience mechanisms are separate settings so that a test can switch one
off; left unset (``None``) each follows the profile: on in ``resilient``, off in
``fragile``. :meth:`AuthSettings.policy` resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from spikekit.reference_platform.settings import ServiceSettings

# argon2id cost: OWASP's 19 MiB and 1 lane, with 3 passes instead of its minimum 2, so that
# a check costs about 28 ms on the 2-core machine here (2 passes: about 20 ms)
DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_KIB = 19_456
DEFAULT_PARALLELISM = 1


@dataclass(frozen=True)
class Policy:
    """The resilience mechanisms of the login path, resolved from settings and profile."""

    rate_limits: bool = True  # per-account failures and per-address attempts, 429
    validation_cache: bool = True  # in-process cache of session validations
    verify_bound: int | None = 32  # password checks admitted at once; None: unbounded
    hash_threads: int = 2  # threads computing argon2


class AuthSettings(ServiceSettings):
    service: str = "auth"
    # argon2id cost
    auth_argon2_time_cost: int = Field(default=DEFAULT_TIME_COST, ge=1, le=20)
    auth_argon2_memory_kib: int = Field(default=DEFAULT_MEMORY_KIB, ge=8, le=1_048_576)
    auth_argon2_parallelism: int = Field(default=DEFAULT_PARALLELISM, ge=1, le=16)
    # sessions
    auth_session_ttl_s: int = Field(default=1800, ge=1)
    auth_cache_ttl_s: float = Field(default=5.0, gt=0)
    auth_cache_size: int = Field(default=100_000, ge=1)
    # login rate limits (fixed windows)
    auth_account_failures: int = Field(default=5, ge=1)
    auth_account_window_s: int = Field(default=300, ge=1)
    auth_address_attempts: int = Field(default=120, ge=1)
    auth_address_window_s: int = Field(default=60, ge=1)
    # password checks: admitted at once (beyond: 503), threads, threads when unbounded
    # 32 checks on 2 threads at ~28 ms each: at most ~0.45 s of queue, well inside a login
    # SLO of 800 ms, so a burst of logins waits a little; a storm beyond that is shed
    auth_verify_bound: int = Field(default=32, ge=1)
    auth_hash_threads: int = Field(default=2, ge=1, le=64)
    auth_unbounded_threads: int = Field(default=32, ge=1, le=256)
    auth_overload_retry_after_s: int = Field(default=1, ge=1)
    # switches; None: follow the profile
    auth_rate_limits: bool | None = None
    auth_validation_cache: bool | None = None
    auth_bounded_verify: bool | None = None
    # storage and requests
    auth_pool_size: int = Field(default=8, ge=1, le=100)
    auth_max_body_bytes: int = Field(default=4096, ge=256)
    auth_redis_prefix: str = "auth:"
    auth_gauge_interval_s: float = Field(default=5.0, gt=0)

    @property
    def argon2_cost(self) -> tuple[int, int, int]:
        """(time_cost, memory_kib, parallelism)"""
        return (
            self.auth_argon2_time_cost,
            self.auth_argon2_memory_kib,
            self.auth_argon2_parallelism,
        )

    @property
    def policy(self) -> Policy:
        bounded = self._switch(self.auth_bounded_verify)
        return Policy(
            rate_limits=self._switch(self.auth_rate_limits),
            validation_cache=self._switch(self.auth_validation_cache),
            verify_bound=self.auth_verify_bound if bounded else None,
            hash_threads=self.auth_hash_threads if bounded else self.auth_unbounded_threads,
        )
