"""What the auth use cases need from the outside, as small abstract interfaces.

The real implementations are in :mod:`..adapters` (PostgreSQL, Redis,
argon2, Prometheus); unit tests use the fakes in ``tests/unit/auth/fakes.py``.
Storage failures surface as :class:`~..domain.AuthUnavailable`.
"""

from __future__ import annotations

import abc
from typing import Protocol

from spikekit.reference_platform.auth.domain import Credential, LoginOutcome


class AbstractCredentials(abc.ABC):
    """Credentials by username (lower case)."""

    @abc.abstractmethod
    async def get(self, username: str) -> Credential | None: ...

    @abc.abstractmethod
    async def add(self, credential: Credential) -> None:
        """Store a new credential; :class:`~..domain.UsernameTaken` when the username exists."""


class AbstractSessions(abc.ABC):
    """Sessions by token digest, each living ``ttl_s`` seconds."""

    @abc.abstractmethod
    async def create(self, digest: str, player_id: str, ttl_s: int) -> None: ...

    @abc.abstractmethod
    async def lookup(self, digest: str) -> tuple[str, float] | None:
        """The player and the seconds the session has left; None when unknown or expired."""

    @abc.abstractmethod
    async def delete(self, digest: str) -> None: ...

    @abc.abstractmethod
    async def active(self) -> int:
        """About how many sessions are alive (for the gauge; may lag a little)."""


class AbstractCounters(abc.ABC):
    """Expiring counters for the rate limits."""

    @abc.abstractmethod
    async def incr(self, key: str, expire_s: int) -> int:
        """Add one and (re)arm the expiry; the count after."""

    @abc.abstractmethod
    async def get(self, key: str) -> int: ...


class AbstractPasswords(abc.ABC):
    """The costly part: hashing and checking passwords, off the event loop."""

    @abc.abstractmethod
    async def hash(self, password: str) -> str:
        """:class:`~..domain.Overloaded` when too many checks are in progress."""

    @abc.abstractmethod
    async def verify(self, password_hash: str, password: str) -> bool:
        """:class:`~..domain.Overloaded` when too many checks are in progress."""


class Telemetry(Protocol):
    """What the use cases report; the Prometheus metrics implement it."""

    def login(self, outcome: LoginOutcome) -> None: ...

    def cache(self, hit: bool) -> None: ...


class NullTelemetry:
    def login(self, outcome: LoginOutcome) -> None:
        pass

    def cache(self, hit: bool) -> None:
        pass
