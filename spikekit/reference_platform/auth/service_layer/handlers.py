"""The auth use cases: register, login, validate a session, logout.

A login, in order (the cheap refusals first, the costly check last):

1. rate limits (resilient): the address's attempt counter is bumped and checked,
   then the account's failure counter is read; over either -> :class:`RateLimited`;
2. the password check, bounded (resilient): beyond the bound -> :class:`Overloaded`.
   An unknown username is checked against a dummy hash, so that it costs the
   same time as a wrong password and the answer does not reveal which it was;
3. a failure bumps the account's failure counter -> :class:`InvalidCredentials`;
4. success stores a new session in Redis with a TTL.

Validation looks in the in-process cache first (resilient), then in Redis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from spikekit.reference_platform.auth.domain import (
    Credential,
    FixedWindow,
    InvalidCredentials,
    InvalidSession,
    LoginOutcome,
    Overloaded,
    RateLimited,
    Session,
    UsernameTaken,
    is_well_formed,
    new_player_id,
    new_token,
    normalize_username,
    token_digest,
)
from spikekit.reference_platform.auth.service_layer.cache import ValidationCache
from spikekit.reference_platform.auth.service_layer.ports import (
    AbstractCounters,
    AbstractCredentials,
    AbstractPasswords,
    AbstractSessions,
    NullTelemetry,
    Telemetry,
)

DUMMY_PASSWORD = "spikekit-no-such-user"  # hashed once; unknown usernames are checked against it


@dataclass(frozen=True)
class Limits:
    """Failed logins per username (account) and login attempts per address."""

    account: FixedWindow = field(default_factory=lambda: FixedWindow(limit=5, window_s=300))
    address: FixedWindow = field(default_factory=lambda: FixedWindow(limit=120, window_s=60))
    prefix: str = "auth:"


@dataclass
class Auth:
    """The handlers with their dependencies, as wired by :func:`..bootstrap.bootstrap`."""

    credentials: AbstractCredentials
    sessions: AbstractSessions
    counters: AbstractCounters
    passwords: AbstractPasswords
    session_ttl_s: int = 1800
    limits: Limits | None = field(default_factory=Limits)  # None: no rate limits
    cache: ValidationCache | None = None  # None: every validation asks Redis
    telemetry: Telemetry = field(default_factory=NullTelemetry)
    clock: Callable[[], float] = time.time
    _dummy_hash: str | None = None

    async def register(self, username: str, password: str) -> str:
        """A new player id for a new username; :class:`UsernameTaken` when it exists."""
        username = normalize_username(username)
        if await self.credentials.get(username) is not None:
            raise UsernameTaken(username)  # known before paying for a hash
        password_hash = await self.passwords.hash(password)
        player_id = new_player_id()
        await self.credentials.add(Credential(player_id, username, password_hash))
        return player_id

    async def login(self, username: str, password: str, address: str) -> Session:
        username = normalize_username(username)
        if self.limits is not None:
            await self._admit(self.limits, username, address)
        try:
            outcome, player_id = await self._check(username, password)
        except Overloaded:
            self.telemetry.login(LoginOutcome.OVERLOADED)
            raise
        if outcome is not LoginOutcome.OK:
            if self.limits is not None:
                window, now = self.limits.account, self.clock()
                key = window.key(self._prefix("fail:"), username, now)
                await self.counters.incr(key, window.expire_s(now))
            self.telemetry.login(outcome)
            raise InvalidCredentials(outcome)
        token = new_token()
        await self.sessions.create(token_digest(token), player_id, self.session_ttl_s)
        self.telemetry.login(LoginOutcome.OK)
        return Session(token, player_id, self.session_ttl_s)

    async def validate(self, token: str) -> Session:
        if not is_well_formed(token):
            raise InvalidSession()
        now = self.clock()
        if self.cache is not None:
            cached = self.cache.get(token, now)
            self.telemetry.cache(cached is not None)
            if cached is not None:
                return Session(token, cached.player_id, _whole(cached.expires_at - now))
        found = await self.sessions.lookup(token_digest(token))
        if found is None:
            raise InvalidSession()
        player_id, left_s = found
        if self.cache is not None:
            self.cache.put(token, player_id, now + left_s, now)
        return Session(token, player_id, _whole(left_s))

    async def logout(self, token: str) -> None:
        """End a session; unknown and malformed tokens are ignored (idempotent)."""
        if not is_well_formed(token):
            return
        if self.cache is not None:
            self.cache.discard(token)
        await self.sessions.delete(token_digest(token))

    async def _admit(self, limits: Limits, username: str, address: str) -> None:
        now = self.clock()
        address_key = limits.address.key(self._prefix("addr:"), address, now)
        attempts = await self.counters.incr(address_key, limits.address.expire_s(now))
        if limits.address.exceeded(attempts):
            self.telemetry.login(LoginOutcome.RATE_LIMITED)
            raise RateLimited("address", limits.address.retry_after(now))
        failures = await self.counters.get(limits.account.key(self._prefix("fail:"), username, now))
        if limits.account.exceeded(failures + 1):  # this attempt would be one too many
            self.telemetry.login(LoginOutcome.RATE_LIMITED)
            raise RateLimited("account", limits.account.retry_after(now))

    async def _check(self, username: str, password: str) -> tuple[LoginOutcome, str]:
        credential = await self.credentials.get(username)
        if credential is None:
            await self.passwords.verify(await self._dummy(), password)
            return LoginOutcome.UNKNOWN, ""
        if await self.passwords.verify(credential.password_hash, password):
            return LoginOutcome.OK, credential.player_id
        return LoginOutcome.BAD_PASSWORD, credential.player_id

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.passwords.hash(DUMMY_PASSWORD)
        return self._dummy_hash

    def _prefix(self, kind: str) -> str:
        prefix = self.limits.prefix if self.limits is not None else "auth:"
        return f"{prefix}rl:{kind}"


def _whole(seconds: float) -> int:
    return max(0, math.ceil(seconds))
