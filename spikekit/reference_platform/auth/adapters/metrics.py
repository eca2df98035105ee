"""The auth service's Prometheus metrics, on the service's registry.

- ``auth_logins_total{outcome}``: ok, bad_password, unknown, rate_limited, overloaded;
- ``auth_argon2_verify_seconds``: the time of one password check in its thread;
- ``auth_password_checks_in_flight``: admitted hash/verify jobs (running or queued);
- ``auth_active_sessions``: live sessions, refreshed every few seconds from Redis;
- ``auth_validation_cache_total{result}``: hit or miss of the validation cache.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from spikekit.reference_platform.auth.domain import LoginOutcome

VERIFY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)


class AuthMetrics:
    """Implements the service layer's ``Telemetry``; the gauges are fed by the app."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.logins = Counter(
            "auth_logins",
            "Login attempts by outcome",
            ["outcome"],
            registry=registry,
        )
        for outcome in LoginOutcome:
            self.logins.labels(outcome.value)  # every series exists from the start
        self.verify_seconds = Histogram(
            "auth_argon2_verify_seconds",
            "Time of one argon2id password check",
            buckets=VERIFY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "auth_password_checks_in_flight",
            "Password hash/verify jobs admitted and not finished",
            registry=registry,
        )
        self.active_sessions = Gauge(
            "auth_active_sessions",
            "Live sessions (refreshed periodically from Redis)",
            registry=registry,
        )
        self.validation_cache = Counter(
            "auth_validation_cache",
            "Session validations answered by the in-process cache (hit) or Redis (miss)",
            ["result"],
            registry=registry,
        )
        self.validation_cache.labels("hit")
        self.validation_cache.labels("miss")

    def login(self, outcome: LoginOutcome) -> None:
        self.logins.labels(outcome.value).inc()

    def cache(self, hit: bool) -> None:
        self.validation_cache.labels("hit" if hit else "miss").inc()

    def observe_verify(self, seconds: float) -> None:
        self.verify_seconds.observe(seconds)

    def track_in_flight(self, read: Callable[[], int]) -> None:
        self.in_flight.set_function(lambda: float(read()))
