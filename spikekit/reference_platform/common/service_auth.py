"""Who may call which money operation of another service, and how a caller proves who it is.

One key per calling service, generated per stack start by the supervisor. A caller
signs every call it makes to a service that checks callers::

    X-Spikekit-Caller:    payments
    X-Spikekit-Timestamp: 1767225600            (Unix seconds)
    X-Spikekit-Signature: hex(HMAC-SHA256(key_payments,
                              METHOD \\n TARGET \\n CALLER \\n TIMESTAMP \\n BODY))

``TARGET`` is the path as sent on the request line (percent-encoded, with ``?query``
when there is one), ``BODY`` the exact bytes sent. A signature is therefore good for
one method, one path and one body, within :data:`MAX_SKEW_S` of its timestamp: it
cannot be replayed on another operation, another player or later than the window. A
replay within the window is the same idempotent call at the wallet and payments (their
money calls carry an idempotency key); a round has none, so there the window is the only
bound (docs/security.md says why that is accepted). The verifier holds a list of keys
per caller (current first, then the previous one during a rotation) and only for the
callers it accepts.

:data:`PERMISSIONS` is the matrix: a known caller with a valid signature on a route
whose row does not list it gets 403; a missing, unknown, stale or wrong signature 401.
The studios' calls to the wallet are the third parties' own seamless-wallet scheme
(``X-Wallet-Signature``, :mod:`spikekit.reference_platform.wallet.signing`), keyed per
studio and bound to the studio's path, so they are not rows here; the router's calls to
the studios' game API are (every studio process is the service :data:`PROVIDERS`).

Exceptions::

    ServiceAuthError
    ├── Unauthenticated   (401)
    └── Forbidden         (403)
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from spikekit.errors import SpikekitError

CALLER_HEADER: Final = "X-Spikekit-Caller"
TIMESTAMP_HEADER: Final = "X-Spikekit-Timestamp"
SIGNATURE_HEADER: Final = "X-Spikekit-Signature"
MAX_SKEW_S: Final = 30  # a signature is good this long either side of its timestamp
KEYS_FILE: Final = "keys.json"

GATEWAY: Final = "gateway"
PAYMENTS: Final = "payments"
ROUTER: Final = "router"
PROVIDERS: Final = "providers"  # the matrix's name for every studio process, provider-<studio>
STUDIO_PREFIX: Final = "provider-"
# processes that call as another service: the payments workers are the payments service
CALLER_OF_SERVICE: Final = {"payments-worker": PAYMENTS}


@dataclass(frozen=True)
class Permission:
    """One operation of one service, and the callers allowed to run it."""

    service: str
    method: str
    path: str  # the route template, as the service declares it
    callers: frozenset[str]


def _row(service: str, method: str, path: str, *callers: str) -> Permission:
    return Permission(service, method, path, frozenset(callers))


# The call graph of the bundled platform. Players reach money only through the gateway,
# which asks payments to move it; payments alone credits deposits and debits withdrawals.
# Bets go gateway → router → a studio, which debits and credits the wallet as itself.
PERMISSIONS: Final = (
    _row("auth", "POST", "/register", GATEWAY),  # create credentials (an account)
    _row("auth", "POST", "/login", GATEWAY),  # open a session; trusts X-Forwarded-For
    _row("wallet", "PUT", "/v1/players/{player_id}", GATEWAY),  # open an account (register)
    _row("wallet", "GET", "/v1/players/{player_id}/balance", GATEWAY),
    _row("wallet", "POST", "/v1/players/{player_id}/deposit", PAYMENTS),
    _row("wallet", "POST", "/v1/players/{player_id}/withdraw", PAYMENTS),
    _row("payments", "POST", "/v1/deposits", GATEWAY),
    _row("payments", "GET", "/v1/deposits/{deposit_id}", GATEWAY),
    _row("payments", "POST", "/v1/withdrawals", GATEWAY),
    _row("payments", "GET", "/v1/withdrawals/{withdrawal_id}", GATEWAY),
    _row("router", "POST", "/v1/launch", GATEWAY),  # a game session for any player
    _row("router", "POST", "/v1/rounds", GATEWAY),  # a bet for any player
    _row(PROVIDERS, "POST", "/v1/launch", ROUTER),
    _row(PROVIDERS, "POST", "/v1/rounds", ROUTER),
)

_ALLOWED: Final = {(p.service, p.method, p.path): p.callers for p in PERMISSIONS}


def caller_of(service: str) -> str:
    """The identity a service process calls others as."""
    return CALLER_OF_SERVICE.get(service, service)


def role_of(service: str) -> str:
    """The matrix's name of a called service: every studio, ``provider-<studio>``, is
    :data:`PROVIDERS`."""
    return PROVIDERS if service.startswith(STUDIO_PREFIX) else service


def callers_of(service: str) -> frozenset[str]:
    """Every caller allowed some operation of ``service``: the keys its verifier gets."""
    role = role_of(service)
    return frozenset(c for p in PERMISSIONS if p.service == role for c in p.callers)


def services_called_by(caller: str) -> frozenset[str]:
    """The services ``caller`` has some permission on: where it must sign its calls."""
    return frozenset(p.service for p in PERMISSIONS if caller in p.callers)


def all_callers() -> frozenset[str]:
    return frozenset(c for p in PERMISSIONS for c in p.callers)


class ServiceAuthError(SpikekitError):
    """A call refused by :class:`Verifier`; ``status`` is its HTTP status."""

    status = 401
    code = "UNAUTHENTICATED"

    def __init__(self, service: str, message: str) -> None:
        self.service = service
        super().__init__(message)


class Unauthenticated(ServiceAuthError):
    """No, an unknown, a stale or a wrong signature."""


class Forbidden(ServiceAuthError):
    """A caller proved who it is, and may not run this operation."""

    status = 403
    code = "FORBIDDEN"


def sign(key: str, method: str, target: str, caller: str, timestamp: str, body: bytes) -> str:
    """``hex(HMAC-SHA256(key, METHOD\\nTARGET\\nCALLER\\nTIMESTAMP\\nBODY))``."""
    head = f"{method.upper()}\n{target}\n{caller}\n{timestamp}\n".encode("latin-1")
    return hmac.digest(key.encode(), head + body, "sha256").hex()  # the one-shot C path


@dataclass(frozen=True)
class Signer:
    """What a calling service holds: its identity and its (current) key."""

    caller: str
    key: str = field(repr=False)
    clock: Callable[[], float] = time.time

    def headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(self.clock()))
        return {
            CALLER_HEADER: self.caller,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.key, method, target, self.caller, timestamp, body),
        }


@dataclass(frozen=True)
class Verifier:
    """What a called service holds: the keys of the callers it accepts, and the matrix."""

    service: str
    keys: Mapping[str, tuple[str, ...]] = field(repr=False)
    clock: Callable[[], float] = time.time
    max_skew_s: int = MAX_SKEW_S

    @classmethod
    def of(
        cls,
        service: str,
        keys: Mapping[str, Iterable[str]],
        clock: Callable[[], float] = time.time,
    ) -> Verifier:
        return cls(service, {c: tuple(k for k in ks if k) for c, ks in keys.items()}, clock)

    def check(
        self,
        method: str,
        target: str,
        route: str,
        headers: Mapping[str, str | None],
        body: bytes,
    ) -> str:
        """The caller of a call to ``route`` (a template), or raise 401 / 403."""
        caller = self.authenticate(method, target, headers, body)
        self.authorize(caller, method, route)
        return caller

    def authenticate(
        self, method: str, target: str, headers: Mapping[str, str | None], body: bytes
    ) -> str:
        caller = headers.get(CALLER_HEADER) or ""
        timestamp = headers.get(TIMESTAMP_HEADER) or ""
        # bytes: compare_digest refuses str with non-ASCII characters (a 500, not a 401)
        signature = (headers.get(SIGNATURE_HEADER) or "").strip().lower().encode()
        keys = self.keys.get(caller, ())
        if not caller or not signature or not keys:
            raise Unauthenticated(self.service, f"missing or unknown {CALLER_HEADER} / signature")
        if not timestamp.isdigit() or abs(self.clock() - int(timestamp)) > self.max_skew_s:
            raise Unauthenticated(
                self.service, f"{TIMESTAMP_HEADER} missing or more than {self.max_skew_s} s off"
            )
        for key in keys:  # constant time per key; at most two during a rotation
            expected = sign(key, method, target, caller, timestamp, body).encode()
            if hmac.compare_digest(expected, signature):
                return caller
        raise Unauthenticated(self.service, f"wrong {SIGNATURE_HEADER}")

    def authorize(self, caller: str, method: str, route: str) -> None:
        if caller not in _ALLOWED.get((role_of(self.service), method.upper(), route), ()):
            raise Forbidden(self.service, f"{caller} may not {method.upper()} {route}")


@dataclass(frozen=True)
class StackKeys:
    """The keys of one running stack: one per calling service, one per studio.

    Saved as ``keys.json`` (mode 0600) in the stack's state folder, so that the
    tools and tests of the stack's owner can call internal APIs as a service.
    """

    callers: dict[str, str] = field(repr=False)
    studios: dict[str, str] = field(repr=False)
    sessions: dict[str, str] = field(repr=False)  # each studio's session-token secret

    @classmethod
    def generate(cls, callers: Iterable[str], studios: Iterable[str]) -> StackKeys:
        names = sorted(set(studios))
        return cls(
            callers={c: secrets.token_hex(32) for c in sorted(set(callers))},
            studios={s: secrets.token_hex(32) for s in names},
            sessions={s: secrets.token_hex(32) for s in names},
        )

    def signer(self, caller: str) -> Signer:
        return Signer(caller, self.callers[caller])

    def verifier_keys(self, service: str) -> dict[str, list[str]]:
        return {c: [self.callers[c]] for c in sorted(callers_of(service)) if c in self.callers}

    def save(self, state_dir: Path) -> Path:
        path = state_dir / KEYS_FILE
        data = {"callers": self.callers, "studios": self.studios, "sessions": self.sessions}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)  # also when the file was there before
            json.dump(data, out, indent=2, sort_keys=True)
        return path

    @classmethod
    def load(cls, state_dir: Path) -> StackKeys:
        data = json.loads((state_dir / KEYS_FILE).read_text(encoding="utf-8"))
        return cls(dict(data["callers"]), dict(data["studios"]), dict(data["sessions"]))
