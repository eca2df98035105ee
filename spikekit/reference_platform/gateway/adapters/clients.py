"""Typed clients of the gateway's four dependencies, one small class each.

Each speaks its service's documented API (docs/auth-api.md, wallet-api.md,
router-api.md, payments-api.md) and parses answers into that service's own
pydantic models, so a contract change shows up as a type or validation error
here rather than as a wrong answer to a player. Error answers become
:class:`~spikekit.reference_platform.gateway.domain.GatewayError` with the
remapping each operation needs.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from spikekit.reference_platform.auth.entrypoints.schemas import (
    LoginResponse,
    RegisterResponse,
    SessionResponse,
)
from spikekit.reference_platform.gateway.adapters.upstream import Upstream
from spikekit.reference_platform.gateway.domain import Remap, Unauthorized, Unavailable
from spikekit.reference_platform.gateway.service_layer.ports import (
    Payment,
    PaymentKind,
    RoutedRound,
)
from spikekit.reference_platform.payments.entrypoints.schemas import Status
from spikekit.reference_platform.providers.schemas import GameInfo, LaunchResponse
from spikekit.reference_platform.wallet.entrypoints.models import BalanceResponse

# a session the studio did not issue (router: 409 INVALID_SESSION) is the player's 404
ROUND_REMAP: Remap = {(409, "INVALID_SESSION"): (404, "unknown_session")}
LOGIN_REMAP: Remap = {(401, "INVALID_CREDENTIALS"): (401, "invalid_credentials")}


REGISTERED = TypeAdapter(RegisterResponse)
LOGGED_IN = TypeAdapter(LoginResponse)
SESSION = TypeAdapter(SessionResponse)
BALANCE = TypeAdapter(BalanceResponse)
GAMES = TypeAdapter(list[GameInfo])
LAUNCHED = TypeAdapter(LaunchResponse)
ROUND = TypeAdapter(RoutedRound)


class AuthClient:
    def __init__(self, upstream: Upstream) -> None:
        self.up = upstream

    async def register(self, username: str, password: str) -> str:
        body = {"username": username, "password": password}
        answer = await self.up.call("register", "POST", "/register", body)
        if answer.status != 201:
            raise self.up.fail("register", answer)
        return self.up.parse("register", REGISTERED, answer).player_id

    async def login(self, username: str, password: str, forwarded_for: str) -> LoginResponse:
        body = {"username": username, "password": password}
        headers = {"X-Forwarded-For": forwarded_for}
        answer = await self.up.call("login", "POST", "/login", body, headers)
        if answer.status != 200:
            raise self.up.fail("login", answer, LOGIN_REMAP)
        return self.up.parse("login", LOGGED_IN, answer)

    async def validate(self, token: str) -> SessionResponse:
        answer = await self.up.call(
            "validate", "POST", "/sessions/validate", {"token": token}, idempotent=True
        )
        if answer.status in (401, 422):  # unknown, expired or malformed token
            raise Unauthorized("the session is unknown or has expired")
        if answer.status != 200:
            raise self.up.fail("validate", answer)
        return self.up.parse("validate", SESSION, answer)

    async def logout(self, token: str) -> None:
        answer = await self.up.call("logout", "POST", "/logout", {"token": token}, idempotent=True)
        if answer.status != 204:
            raise self.up.fail("logout", answer)


class WalletClient:
    def __init__(self, upstream: Upstream) -> None:
        self.up = upstream

    async def open_account(self, player_id: str) -> None:
        path = f"/v1/players/{quote(player_id, safe='')}"
        answer = await self.up.call("open_account", "PUT", path, idempotent=True)
        if answer.status not in (200, 201):
            raise self.up.fail("open_account", answer)

    async def balance(self, player_id: str) -> int | None:
        """The balance, or None when the wallet has no account for the player."""
        path = f"/v1/players/{quote(player_id, safe='')}/balance"
        answer = await self.up.call("balance", "GET", path, idempotent=True)
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise self.up.fail("balance", answer)
        return self.up.parse("balance", BALANCE, answer).balance


class RouterClient:
    def __init__(self, upstream: Upstream) -> None:
        self.up = upstream

    async def games(self) -> list[GameInfo]:
        answer = await self.up.call("games", "GET", "/v1/games", idempotent=True)
        if answer.status != 200:
            raise self.up.fail("games", answer)
        return self.up.parse("games", GAMES, answer)

    async def launch(self, player_id: str, game: str) -> LaunchResponse:
        body = {"player_id": player_id, "game": game}
        answer = await self.up.call("launch", "POST", "/v1/launch", body)
        if answer.status != 200:
            raise self.up.fail("launch", answer)
        return self.up.parse("launch", LAUNCHED, answer)

    async def play(self, player_id: str, game: str, bet: int, session_id: str) -> RoutedRound:
        body = {"player_id": player_id, "game": game, "bet": bet, "session_id": session_id}
        answer = await self.up.call("rounds", "POST", "/v1/rounds", body)
        if answer.status != 200:
            raise self.up.fail("rounds", answer, ROUND_REMAP)
        return self.up.parse("rounds", ROUND, answer)


class PaymentsClient:
    def __init__(self, upstream: Upstream) -> None:
        self.up = upstream

    async def submit(
        self, kind: PaymentKind, player_id: str, amount: int, idempotency_key: str
    ) -> Payment:
        body = {"player_id": player_id, "amount": amount, "idempotency_key": idempotency_key}
        operation = f"create_{kind.value}"
        answer = await self.up.call(operation, "POST", f"/v1/{kind.value}s", body)
        if answer.status != 202:
            raise self.up.fail(operation, answer)
        replayed = answer.headers.get("idempotent-replayed") == "true"
        return _payment(kind, self.up.parse(operation, VIEW, answer), replayed)

    async def get(self, kind: PaymentKind, payment_id: str) -> Payment | None:
        """The payment, or None when payments does not know it."""
        operation = f"get_{kind.value}"
        path = f"/v1/{kind.value}s/{quote(payment_id, safe='')}"
        answer = await self.up.call(operation, "GET", path, idempotent=True)
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise self.up.fail(operation, answer)
        return _payment(kind, self.up.parse(operation, VIEW, answer), False)


class _PaymentView(BaseModel):
    """The fields both of payments' views (``DepositView``, ``WithdrawalView``) carry."""

    deposit_id: str | None = None
    withdrawal_id: str | None = None
    player_id: str
    status: Status
    amount: int
    reason: str | None = None


VIEW = TypeAdapter(_PaymentView)


def _payment(kind: PaymentKind, view: _PaymentView, replayed: bool) -> Payment:
    payment_id = view.deposit_id if kind is PaymentKind.DEPOSIT else view.withdrawal_id
    if payment_id is None:
        raise Unavailable("bad_upstream_answer", f"payments answered a {kind.value} without its id")
    return Payment(
        kind, payment_id, view.player_id, view.status, view.amount, view.reason, replayed
    )


class NotConfigured:
    """Stands in for a dependency the gateway was not given URLs for: every call is a 503."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency

    def _fail(self) -> Unavailable:
        return Unavailable("not_configured", f"this gateway has no {self.dependency} to call")

    async def register(self, username: str, password: str) -> str:
        raise self._fail()

    async def login(self, username: str, password: str, forwarded_for: str) -> LoginResponse:
        raise self._fail()

    async def validate(self, token: str) -> SessionResponse:
        raise self._fail()

    async def logout(self, token: str) -> None:
        raise self._fail()

    async def open_account(self, player_id: str) -> None:
        raise self._fail()

    async def balance(self, player_id: str) -> int | None:
        raise self._fail()

    async def games(self) -> list[GameInfo]:
        raise self._fail()

    async def launch(self, player_id: str, game: str) -> LaunchResponse:
        raise self._fail()

    async def play(self, player_id: str, game: str, bet: int, session_id: str) -> RoutedRound:
        raise self._fail()

    async def submit(
        self, kind: PaymentKind, player_id: str, amount: int, idempotency_key: str
    ) -> Payment:
        raise self._fail()

    async def get(self, kind: PaymentKind, payment_id: str) -> Payment | None:
        raise self._fail()
