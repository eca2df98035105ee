"""The auth service's rules: plain data and pure functions, no I/O.

- usernames are case-insensitive: stored and looked up in lower case;
- a session token is ``st_`` followed by 43 URL-safe characters (256 random
  bits); a malformed token is refused without asking Redis, and Redis stores
  only the token's SHA-256, so a dump of Redis holds no usable token;
- login rate limits count in fixed windows: the window a moment belongs to is
  ``floor(now / window)``, the counter's key names that window, and a refused
  caller is told to retry when the window ends;
- the seeded population: player ``N`` is ``p`` + ``N`` on 6 digits, its
  username ``player`` + ``N`` on 6 digits, its password ``spike-<N mod 64>``.

Errors (the auth service's part of :mod:`spikekit.errors`)::

    SpikekitError
    └── AuthError
        ├── UsernameTaken         register: the username exists
        ├── InvalidCredentials    login: unknown username or wrong password (one answer)
        ├── InvalidSession        validate: unknown, expired or malformed token
        ├── RateLimited           login: too many attempts; carries retry_after_s
        ├── Overloaded            too many password checks in flight; carries retry_after_s
        └── AuthUnavailable       PostgreSQL or Redis did not answer in time
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from spikekit.errors import SpikekitError

TOKEN_PREFIX = "st_"
TOKEN_RE = re.compile(r"^st_[A-Za-z0-9_-]{43}$")
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$"
MAX_PASSWORD_CHARS = 256  # argon2 cost grows with input; bound it so a password is no DoS
MIN_NEW_PASSWORD_CHARS = 8
SEED_PASSWORD_POOL = 64


class AuthError(SpikekitError):
    """A request the auth service cannot grant as asked."""


class UsernameTaken(AuthError):
    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"username {username!r} is taken")


class InvalidCredentials(AuthError):
    """Unknown username or wrong password; ``outcome`` says which, for metrics only."""

    def __init__(self, outcome: LoginOutcome) -> None:
        self.outcome = outcome
        super().__init__("invalid username or password")


class InvalidSession(AuthError):
    def __init__(self) -> None:
        super().__init__("unknown or expired session")


class RateLimited(AuthError):
    def __init__(self, scope: str, retry_after_s: int) -> None:
        self.scope = scope
        self.retry_after_s = retry_after_s
        super().__init__(f"too many login attempts for this {scope}; retry in {retry_after_s} s")


class Overloaded(AuthError):
    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__("too many password checks in progress")


class AuthUnavailable(AuthError):
    """A dependency (PostgreSQL or Redis) failed or did not answer in time."""

    def __init__(self, dependency: str, reason: str) -> None:
        self.dependency = dependency
        super().__init__(f"{dependency} unavailable: {reason}")


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_PASSWORD = "bad_password"
    UNKNOWN = "unknown"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"


@dataclass(frozen=True)
class Credential:
    player_id: str
    username: str
    password_hash: str


@dataclass(frozen=True)
class Session:
    token: str
    player_id: str
    expires_in_s: int


def normalize_username(username: str) -> str:
    return username.strip().lower()


def new_player_id() -> str:
    """A registered player's id: ``p`` + 16 hex digits, never equal to a seeded ``p`` + 6 digits."""
    return "p" + secrets.token_hex(8)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_well_formed(token: str) -> bool:
    return TOKEN_RE.fullmatch(token) is not None


def token_digest(token: str) -> str:
    """What Redis stores for a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class FixedWindow:
    """At most ``limit`` events per ``window_s`` seconds, counted per window."""

    limit: int
    window_s: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_s < 1:
            raise ValueError(f"a window needs limit >= 1 and window_s >= 1: {self}")

    def index(self, now: float) -> int:
        return math.floor(now / self.window_s)

    def key(self, prefix: str, subject: str, now: float) -> str:
        return f"{prefix}{subject}:{self.index(now)}"

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window of ``now`` ends (at least 1)."""
        end = (self.index(now) + 1) * self.window_s
        return max(1, math.ceil(end - now))

    def expire_s(self, now: float) -> int:
        """How long the counter must live: to the end of its window, plus a second."""
        return self.retry_after(now) + 1

    def exceeded(self, count: int) -> bool:
        return count > self.limit


def seed_player_id(n: int) -> str:
    return f"p{n:06d}"


def seed_username(n: int) -> str:
    return f"player{n:06d}"


def seed_password(n: int, pool: int = SEED_PASSWORD_POOL) -> str:
    """The documented password of seeded player ``n``."""
    return f"spike-{n % pool}"
