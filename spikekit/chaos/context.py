"""What faults act on: the platform's addresses, its state folder, the safety guard.

One :class:`ChaosContext` is built per run (or per ``spikekit chaos`` command) and handed
to every fault instead of threading URLs and folders through each call. For the bundled
platform :meth:`ChaosContext.for_platform` fills it from ``stack.json``; for a platform
of the user's own, the URLs are given directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spikekit.chaos.base import FaultConfigError
from spikekit.guard import TargetGuard
from spikekit.reference_platform import state as state_file
from spikekit.reference_platform.control import running_state
from spikekit.reference_platform.state import StackState
from spikekit.toxiproxy.client import ToxiproxyClient

__all__ = ["ChaosContext"]


@dataclass
class ChaosContext:
    """Addresses of the platform under test, and the guard every fault checks them with."""

    guard: TargetGuard = field(default_factory=TargetGuard)
    #: State folder of a running ``spikekit platform up`` (stack.json, control requests).
    state_dir: Path | None = None
    toxiproxy_url: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    #: Base URLs of provider simulators' control APIs (default: the stack's providers).
    provider_urls: tuple[str, ...] = ()
    #: Docker engine (default: the docker SDK's environment, DOCKER_HOST or the local socket).
    docker_url: str | None = None
    #: Schema searched first for a table named without one (the wallet's tables).
    db_schema: str = "wallet"
    #: How long to wait for the supervisor to start a process again.
    restart_timeout_s: float = 60.0

    @classmethod
    def for_platform(
        cls,
        state_dir: Path,
        *,
        guard: TargetGuard | None = None,
        toxiproxy_url: str | None = None,
    ) -> ChaosContext:
        """A context for the platform running from ``state_dir`` (FaultConfigError if none)."""
        state = running_state(state_dir)
        if state is None:
            raise FaultConfigError(
                "platform", f"no platform is running from {state_dir} (spikekit platform up)"
            )
        providers = tuple(s.url for s in state.services if s.service.startswith("provider-"))
        return cls(
            guard=guard or TargetGuard(),
            state_dir=state_dir,
            toxiproxy_url=toxiproxy_url or state.toxiproxy_api,
            database_url=state.backing_address("postgres"),
            redis_url=state.backing_address("redis"),
            provider_urls=providers,
        )

    def stack(self) -> StackState:
        """The platform's current ``stack.json`` (read afresh: restarts change PIDs)."""
        if self.state_dir is None:
            raise FaultConfigError(
                "platform", "this fault needs the bundled platform (--state-dir)"
            )
        state = state_file.load(self.state_dir)
        if state is None:
            raise FaultConfigError("platform", f"no stack.json in {self.state_dir}")
        return state

    def toxiproxy(self) -> ToxiproxyClient:
        """A client on the platform's (or the user's) Toxiproxy, after the guard."""
        if self.toxiproxy_url is None:
            raise FaultConfigError(
                "network",
                "no Toxiproxy: the platform runs without it (make install) or give --toxiproxy URL",
            )
        self.guard.check_url(self.toxiproxy_url, "toxiproxy")
        return ToxiproxyClient(self.toxiproxy_url)

    def postgres_dsn(self) -> str:
        if self.database_url is None:
            raise FaultConfigError("database", "no PostgreSQL address (is postgres in the stack?)")
        self.guard.check_url(self.database_url, "database")
        return self.database_url

    def redis_address(self) -> str:
        if self.redis_url is None:
            raise FaultConfigError("cache", "no Redis address (is redis in the stack?)")
        self.guard.check_url(self.redis_url, "cache")
        return self.redis_url
