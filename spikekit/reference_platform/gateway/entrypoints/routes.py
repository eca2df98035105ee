"""The routes of the players' API: parse, authenticate, call a handler, shape the answer.

A session token travels as ``Authorization: Bearer <token>``; a missing or
malformed one is a 401 without asking auth. Path parameters out of their pattern
(a game slug, a payment id) are a 404, as an unknown one would be.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response

from spikekit.reference_platform.common.errors import openapi_errors
from spikekit.reference_platform.gateway.domain import (
    GatewayError,
    Unauthorized,
    Unavailable,
    valid_game,
    valid_id,
)
from spikekit.reference_platform.gateway.entrypoints.schemas import (
    BalanceAnswer,
    DepositAnswer,
    ErrorAnswer,
    LaunchAnswer,
    LobbyAnswer,
    LoginAnswer,
    LoginRequest,
    MeAnswer,
    PaymentRequest,
    RegisterAnswer,
    RegisterRequest,
    RoundAnswer,
    RoundRequest,
    WithdrawalAnswer,
)
from spikekit.reference_platform.gateway.service_layer.handlers import Gateway
from spikekit.reference_platform.gateway.service_layer.ports import Payment, PaymentKind
from spikekit.reference_platform.gateway.settings import GatewaySettings

TOKEN = re.compile(r"^[A-Za-z0-9_\-.~+/=]{1,128}$")
REPLAYED_HEADER = "Idempotent-Replayed"


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return openapi_errors((*statuses, 422), ErrorAnswer)


async def gateway(request: Request) -> Gateway:
    return gateway_of(request.app.state)


def gateway_of(state: Any) -> Gateway:
    """The live handlers in ``app.state``, or 503 while the gateway starts or stops."""
    handlers: Gateway | None = state.gateway
    if handlers is None:
        raise Unavailable("starting", "the gateway is starting or stopping")
    return handlers


Handlers = Annotated[Gateway, Depends(gateway)]


async def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    return token_of(authorization)


def token_of(authorization: str | None) -> str:
    """The session token of an ``Authorization`` header, or 401 without asking auth."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not TOKEN.match(token):
        raise Unauthorized("send Authorization: Bearer <token> from /api/login")
    return token


Token = Annotated[str, Depends(bearer_token)]


async def current_player(token: Token, handlers: Handlers) -> str:
    return await handlers.authenticate(token)


Player = Annotated[str, Depends(current_player)]


def forwarded_for(request: Request) -> str:
    """The player's address for auth's per-address limits: the TCP peer, appended to the
    caller's own ``X-Forwarded-For`` when the gateway trusts its edge (as proxies do)."""
    peer = request.client.host if request.client else "unknown"
    settings: GatewaySettings = request.app.state.settings
    claimed = request.headers.get("x-forwarded-for", "").split(",", 1)[0].strip()[:64]
    if settings.gateway_trust_forwarded_for and claimed:
        with contextlib.suppress(ValueError):
            return f"{ipaddress.ip_address(claimed)}, {peer}"
    return peer


routes = APIRouter(prefix="/api", tags=["players"])


@routes.post("/register", status_code=201, responses=_errors(409, 503))
async def register(body: RegisterRequest, handlers: Handlers) -> RegisterAnswer:
    """A new player (and their wallet account, balance 0)."""
    return RegisterAnswer(player_id=await handlers.register(body.username, body.password))


@routes.post("/login", responses=_errors(401, 429, 503))
async def login(body: LoginRequest, request: Request, handlers: Handlers) -> LoginAnswer:
    """A session token; 429 and 503 carry ``Retry-After``."""
    session = await handlers.login(body.username, body.password, forwarded_for(request))
    return LoginAnswer(
        token=session.token, player_id=session.player_id, expires_in=session.expires_in
    )


@routes.post("/logout", status_code=204, response_class=Response, responses=_errors(401))
async def logout(token: Token, _: Player, handlers: Handlers) -> Response:
    """End the session."""
    await handlers.logout(token)
    return Response(status_code=204)


@routes.get("/me", responses=_errors(401, 503))
async def me(player: Player, handlers: Handlers) -> MeAnswer:
    profile = await handlers.me(player)
    return MeAnswer(player_id=player, username=profile.username, balance=profile.balance)


@routes.get("/balance", responses=_errors(401, 503))
async def balance(player: Player, handlers: Handlers) -> BalanceAnswer:
    return BalanceAnswer(player_id=player, balance=await handlers.balance(player))


@routes.get("/lobby", responses={200: {"model": LobbyAnswer}, **_errors(503)})
async def lobby(handlers: Handlers) -> Response:
    """Every game with the studios offering it (cached in the resilient profile)."""
    return Response(await handlers.lobby(), media_type="application/json")


@routes.post("/games/{game}/launch", responses=_errors(401, 404, 503))
async def launch(game: str, player: Player, handlers: Handlers) -> LaunchAnswer:
    """A game session at a studio offering the game."""
    answer = await handlers.launch(player, known_game(game))
    return LaunchAnswer(session_id=answer.session_id, game=answer.game, provider=answer.provider)


@routes.post("/games/{game}/rounds", responses=_errors(401, 402, 404, 409, 503))
async def play(game: str, body: RoundRequest, player: Player, handlers: Handlers) -> RoundAnswer:
    """One round: the bet is debited, the win credited; ``balance`` is the balance after."""
    answer = await handlers.play(player, known_game(game), body.bet, body.session_id)
    return RoundAnswer.model_validate(answer.model_dump())


@routes.post("/deposits", status_code=202, responses=_errors(401, 409, 503))
async def deposit(
    body: PaymentRequest, response: Response, player: Player, handlers: Handlers
) -> DepositAnswer:
    """Accepted; the payment workers credit it (see its status)."""
    payment = await handlers.pay(PaymentKind.DEPOSIT, player, body.amount, body.idempotency_key)
    _replayed(payment, response)
    return DepositAnswer(
        deposit_id=payment.payment_id, status=payment.status, amount=payment.amount
    )


@routes.get("/deposits/{deposit_id}", responses=_errors(401, 404, 503))
async def deposit_status(deposit_id: str, player: Player, handlers: Handlers) -> DepositAnswer:
    payment = await handlers.payment(PaymentKind.DEPOSIT, player, known_payment_id(deposit_id))
    return DepositAnswer(
        deposit_id=payment.payment_id, status=payment.status, amount=payment.amount
    )


@routes.post("/withdrawals", status_code=202, responses=_errors(401, 402, 409, 503))
async def withdraw(
    body: PaymentRequest, response: Response, player: Player, handlers: Handlers
) -> WithdrawalAnswer:
    """Accepted when the balance covers it; the payment workers debit it."""
    payment = await handlers.pay(PaymentKind.WITHDRAWAL, player, body.amount, body.idempotency_key)
    _replayed(payment, response)
    return WithdrawalAnswer(
        withdrawal_id=payment.payment_id, status=payment.status, amount=payment.amount
    )


@routes.get("/withdrawals/{withdrawal_id}", responses=_errors(401, 404, 503))
async def withdrawal_status(
    withdrawal_id: str, player: Player, handlers: Handlers
) -> WithdrawalAnswer:
    payment = await handlers.payment(
        PaymentKind.WITHDRAWAL, player, known_payment_id(withdrawal_id)
    )
    return WithdrawalAnswer(
        withdrawal_id=payment.payment_id, status=payment.status, amount=payment.amount
    )


def known_game(game: str) -> str:
    if not valid_game(game):
        raise GatewayError(404, "unknown_game", "no such game")
    return game


def known_payment_id(payment_id: str) -> str:
    if not valid_id(payment_id, max_chars=64):
        raise GatewayError(404, "not_found", "no such payment")
    return payment_id


def _replayed(payment: Payment, response: Response) -> None:
    if payment.replayed:
        response.headers[REPLAYED_HEADER] = "true"
