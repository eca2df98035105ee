"""What the gateway's handlers need from the world, as small protocols.

The adapters implement them over HTTP and Redis; unit tests pass fakes. Answers
of the dependencies are their own pydantic models (auth's ``LoginResponse``, the
studios' ``RoundResponse``, ...) except payments, whose two views are folded into
one :class:`Payment`. A port raises :class:`~..domain.GatewayError` for any
answer it cannot give.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from spikekit.reference_platform.auth.entrypoints.schemas import LoginResponse, SessionResponse
from spikekit.reference_platform.providers.schemas import GameInfo, LaunchResponse, RoundResponse

PaymentStatus = Literal["pending", "completed", "failed"]


class PaymentKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True)
class Payment:
    kind: PaymentKind
    payment_id: str
    player_id: str
    status: PaymentStatus
    amount: int
    reason: str | None = None
    replayed: bool = False


class RoutedRound(RoundResponse):
    """The router's round answer: the studio's, and whether another studio played it."""

    failover: bool = False


class AuthPort(Protocol):
    async def register(self, username: str, password: str) -> str: ...
    async def login(self, username: str, password: str, forwarded_for: str) -> LoginResponse: ...
    async def validate(self, token: str) -> SessionResponse: ...
    async def logout(self, token: str) -> None: ...


class WalletPort(Protocol):
    async def open_account(self, player_id: str) -> None: ...
    async def balance(self, player_id: str) -> int | None: ...


class RouterPort(Protocol):
    async def games(self) -> list[GameInfo]: ...
    async def launch(self, player_id: str, game: str) -> LaunchResponse: ...
    async def play(self, player_id: str, game: str, bet: int, session_id: str) -> RoutedRound: ...


class PaymentsPort(Protocol):
    async def submit(
        self, kind: PaymentKind, player_id: str, amount: int, idempotency_key: str
    ) -> Payment: ...
    async def get(self, kind: PaymentKind, payment_id: str) -> Payment | None: ...


class LobbyPort(Protocol):
    """The lobby's JSON body, from wherever it is kept; ``load`` builds it from the router."""

    async def get(self, load: Callable[[], Awaitable[bytes]]) -> bytes: ...


class ProfilesPort(Protocol):
    """Usernames by player id (auth's session answers carry only the id)."""

    async def remember(self, player_id: str, username: str, ttl_s: int) -> None: ...
    async def username(self, player_id: str) -> str | None: ...
