"""What the gateway answers when something goes wrong, decided without I/O.

Every error is a :class:`GatewayError`: an HTTP status, a lower-case code and a
text, and for 429/503 the seconds after which to retry. :func:`upstream_error`
turns a dependency's error answer into the player's error: 429 and 503 are
passed on with their ``Retry-After`` (other 5xx become 503), a 4xx about the
request keeps its status unless the operation maps it (a session the provider
does not know is the player's 404, an expired session at auth is 401).

Errors::

    GatewayError               status, code, detail, retry_after_s
    ├── Unauthorized           401: no, malformed or expired session token
    └── Unavailable            503 + Retry-After: a dependency is down, slow or not configured
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from spikekit.errors import SpikekitError

DEFAULT_RETRY_AFTER_S = 1
MAX_RETRY_AFTER_S = 3600
# the wallet's id pattern: player, session, payment ids, idempotency keys
ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
GAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
_ID = re.compile(ID_PATTERN)
_GAME = re.compile(GAME_PATTERN)


class GatewayError(SpikekitError):
    """An error answer: ``{"error": code, "detail": detail}`` with ``status``."""

    def __init__(
        self, status: int, code: str, detail: str, retry_after_s: int | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after_s = retry_after_s
        super().__init__(f"{status} {code}: {detail}")


class Unauthorized(GatewayError):
    def __init__(self, detail: str = "a valid session token is required") -> None:
        super().__init__(401, "unauthorized", detail)


class Unavailable(GatewayError):
    def __init__(self, code: str, detail: str, retry_after_s: int = DEFAULT_RETRY_AFTER_S) -> None:
        super().__init__(503, code, detail, retry_after_s)


@dataclass(frozen=True)
class UpstreamFailure:
    """A dependency's error answer, as far as the gateway reads it."""

    dependency: str
    status: int
    code: str  # the dependency's ``error.code`` (upper case), or "" when it gave none
    message: str
    retry_after: str | None  # the raw Retry-After header


# (status, upstream code) → (status, code) for the player, per operation family
Remap = Mapping[tuple[int, str], tuple[int, str]]
NO_REMAP: Remap = {}


def retry_after_seconds(raw: str | None, default: int = DEFAULT_RETRY_AFTER_S) -> int:
    """Whole seconds from a ``Retry-After`` header (delta-seconds, maybe fractional)."""
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        return default
    if value != value or value < 0:  # NaN or negative
        return default
    return max(1, min(MAX_RETRY_AFTER_S, int(-(-value // 1))))


def upstream_error(failure: UpstreamFailure, remap: Remap = NO_REMAP) -> GatewayError:
    """The player's error for a dependency's error answer."""
    code = failure.code.lower() or f"{failure.dependency}_error"
    mapped = remap.get((failure.status, failure.code))
    if mapped is not None:
        return GatewayError(mapped[0], mapped[1], failure.message or code)
    detail = f"{failure.dependency}: {failure.message or code}"
    if failure.status == 429:
        return GatewayError(429, code, detail, retry_after_seconds(failure.retry_after))
    if failure.status >= 500:
        return Unavailable(code, detail, retry_after_seconds(failure.retry_after))
    if failure.status == 401:  # our call was not accepted: the player's session is the cause
        return Unauthorized(detail)
    if 400 <= failure.status < 500:
        return GatewayError(failure.status, code, detail)
    return Unavailable("bad_upstream_answer", f"{failure.dependency} answered {failure.status}")


def valid_id(value: str, max_chars: int = 128) -> bool:
    return 0 < len(value) <= max_chars and _ID.match(value) is not None


def valid_game(value: str) -> bool:
    return 0 < len(value) <= 64 and _GAME.match(value) is not None


def seeded_username(player_id: str) -> str | None:
    """``p000123`` → ``player000123`` (the seeded population's naming), else None."""
    digits = player_id[1:]
    if player_id.startswith("p") and len(digits) == 6 and digits.isdigit():
        return f"player{digits}"
    return None
