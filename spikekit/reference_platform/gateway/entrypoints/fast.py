"""The players' hottest routes without FastAPI's per-request machinery (common/fast_routes.py).

Rounds, the lobby, balance, ``/me``, deposits and their status: about 95 % of the
players' requests. Each handler does what its route in :mod:`.routes` does, in the order
FastAPI solves that route's dependencies (the session token, the gateway's state, the
session), with the same helpers; a body the route's model refuses is left to FastAPI
(its 422), and every error is the app's own handler's answer.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from spikekit.reference_platform.common.fast_routes import (
    Answer,
    FastRequest,
    FastTable,
    json_answer,
    parse_body,
)
from spikekit.reference_platform.gateway.entrypoints.routes import (
    REPLAYED_HEADER,
    gateway_of,
    known_game,
    known_payment_id,
    token_of,
)
from spikekit.reference_platform.gateway.entrypoints.schemas import (
    BalanceAnswer,
    DepositAnswer,
    MeAnswer,
    PaymentRequest,
    RoundAnswer,
    RoundRequest,
)
from spikekit.reference_platform.gateway.service_layer.handlers import Gateway
from spikekit.reference_platform.gateway.service_layer.ports import PaymentKind

ROUND_BODY = TypeAdapter(RoundRequest)
PAYMENT_BODY = TypeAdapter(PaymentRequest)
REPLAYED = (REPLAYED_HEADER.lower().encode(), b"true")


async def _player(request: FastRequest) -> tuple[str, Gateway]:
    """``current_player``: the token (401), the gateway's state (503), the session."""
    token = token_of(request.header(b"authorization"))
    handlers = gateway_of(request.state)
    return await handlers.authenticate(token), handlers


async def play(request: FastRequest) -> Answer | None:
    body = parse_body(ROUND_BODY, request)
    if body is None:
        return None
    player, handlers = await _player(request)
    game = known_game(request.params["game"])
    answer = await handlers.play(player, game, body.bet, body.session_id)
    return json_answer(RoundAnswer.model_validate(answer.model_dump()))


async def lobby(request: FastRequest) -> Answer | None:
    return Answer(200, await gateway_of(request.state).lobby())


async def balance(request: FastRequest) -> Answer | None:
    player, handlers = await _player(request)
    return json_answer(BalanceAnswer(player_id=player, balance=await handlers.balance(player)))


async def me(request: FastRequest) -> Answer | None:
    player, handlers = await _player(request)
    profile = await handlers.me(player)
    return json_answer(
        MeAnswer(player_id=player, username=profile.username, balance=profile.balance)
    )


async def deposit(request: FastRequest) -> Answer | None:
    body = parse_body(PAYMENT_BODY, request)
    if body is None:
        return None
    player, handlers = await _player(request)
    payment = await handlers.pay(PaymentKind.DEPOSIT, player, body.amount, body.idempotency_key)
    answer = json_answer(
        DepositAnswer(deposit_id=payment.payment_id, status=payment.status, amount=payment.amount),
        status=202,
    )
    if payment.replayed:
        answer.headers.append(REPLAYED)
    return answer


async def deposit_status(request: FastRequest) -> Answer | None:
    player, handlers = await _player(request)
    payment_id = known_payment_id(request.params["deposit_id"])
    payment = await handlers.payment(PaymentKind.DEPOSIT, player, payment_id)
    return json_answer(
        DepositAnswer(deposit_id=payment.payment_id, status=payment.status, amount=payment.amount)
    )


def add_fast_routes(table: FastTable) -> None:
    table.add("POST", "/api/games/{game}/rounds", play)
    table.add("GET", "/api/lobby", lobby)
    table.add("GET", "/api/balance", balance)
    table.add("GET", "/api/me", me)
    table.add("POST", "/api/deposits", deposit)
    table.add("GET", "/api/deposits/{deposit_id}", deposit_status)
