"""The router's ASGI app: launches and rounds for the gateway, the game list, provider state.

Launches and rounds are for the gateway only, signed with its key (``X-Spikekit-*``,
:mod:`~spikekit.reference_platform.common.service_auth`): they bet for any player id.
``create_app()`` is the factory the supervisor runs. See docs/router-api.md.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from spikekit.reference_platform.common.caller_auth import CALLER_CHECK, fast_caller
from spikekit.reference_platform.common.checks import Check, redis_check
from spikekit.reference_platform.common.errors import ApiError, install_error_handlers
from spikekit.reference_platform.common.fast_routes import (
    Answer,
    FastRequest,
    json_answer,
    parse_body,
)
from spikekit.reference_platform.common.limits import BodyLimit
from spikekit.reference_platform.common.service_app import fast_routes, service_app
from spikekit.reference_platform.providers.catalogue import GAMES
from spikekit.reference_platform.providers.errors import SIGNED_ERRORS
from spikekit.reference_platform.providers.schemas import (
    Bet,
    GameId,
    GameInfo,
    LaunchResponse,
    PlayerId,
    RoundResponse,
    SessionId,
)
from spikekit.reference_platform.router.bootstrap import Runtime, bootstrap
from spikekit.reference_platform.router.metrics import RouterMetrics
from spikekit.reference_platform.router.service import RouterError
from spikekit.reference_platform.router.settings import RouterSettings


class LaunchBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    player_id: PlayerId
    game: GameId


class RoundBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    player_id: PlayerId
    game: GameId
    bet: Bet
    session_id: SessionId | None = None


class RoutedRound(RoundResponse):
    failover: bool = Field(description="true when another studio than the first choice played it")


class ProviderView(BaseModel):
    provider: str
    breaker: str = Field(description="closed, half-opened or opened")
    latency_ms: float
    error_rate: float
    samples: int


class RouterState:
    def __init__(self, settings: RouterSettings, metrics: RouterMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.runtime: Runtime | None = None

    def ready(self) -> Runtime:
        if self.runtime is None:
            raise ApiError(
                503, "STARTING", "the router is starting or stopping", {"Retry-After": "1"}
            )
        return self.runtime


async def state(request: Request) -> RouterState:
    value = request.app.state.router
    assert isinstance(value, RouterState)
    return value


State = Annotated[RouterState, Depends(state)]
routes = APIRouter(prefix="/v1", tags=["routing (for the gateway)"])


def _error(error: RouterError) -> ApiError:
    headers = {"Retry-After": error.retry_after} if error.retry_after else None
    return ApiError(error.status, error.code, str(error), headers)


@routes.post(
    "/launch", response_model=LaunchResponse, responses=SIGNED_ERRORS, dependencies=[CALLER_CHECK]
)
async def launch(body: LaunchBody, ctx: State) -> dict[str, Any]:
    """A game session at a studio offering the game (failover when one is down)."""
    return await launch_game(body, ctx)


async def launch_game(body: LaunchBody, ctx: RouterState) -> dict[str, Any]:
    try:
        return await ctx.ready().router.launch(body.player_id, body.game)
    except RouterError as error:
        raise _error(error) from error


@routes.post(
    "/rounds", response_model=RoutedRound, responses=SIGNED_ERRORS, dependencies=[CALLER_CHECK]
)
async def play(body: RoundBody, ctx: State) -> dict[str, Any]:
    """A round at the session's studio, or another one offering the game when it is down."""
    return await play_round(body, ctx)


async def play_round(body: RoundBody, ctx: RouterState) -> dict[str, Any]:
    try:
        return await ctx.ready().router.play(body.player_id, body.game, body.bet, body.session_id)
    except RouterError as error:
        raise _error(error) from error


@routes.get("/games", response_model=list[GameInfo])
async def games(ctx: State) -> list[GameInfo]:
    """Every game with the studios configured to offer it (the gateway's lobby)."""
    configured = ctx.ready().router.clients
    return [
        GameInfo(
            id=g.id,
            name=g.name,
            family=g.family,
            providers=[s for s in g.studios if s in configured],
            min_bet=g.min_bet,
            max_bet=g.max_bet,
        )
        for g in GAMES.values()
    ]


@routes.get("/providers", response_model=list[ProviderView])
async def providers(ctx: State) -> list[ProviderView]:
    """Each studio's breaker state and shared health, as this replica sees them."""
    runtime = ctx.ready()
    view = runtime.board.view()
    now = time.time()
    answer = []
    for studio in runtime.router.clients:
        health = view.get(studio)
        answer.append(
            ProviderView(
                provider=studio,
                breaker=await runtime.breakers.state(studio),
                latency_ms=health.latency_ms if health else 0.0,
                error_rate=health.current_error_rate(now) if health else 0.0,
                samples=health.samples if health else 0,
            )
        )
    return answer


# the same routes without FastAPI's per-request machinery (common/fast_routes.py)
LAUNCH_BODY = TypeAdapter(LaunchBody)
ROUND_BODY = TypeAdapter(RoundBody)


async def fast_launch(request: FastRequest) -> Answer | None:
    fast_caller(request)
    body = parse_body(LAUNCH_BODY, request)
    if body is None:
        return None
    answer = await launch_game(body, request.state.router)
    return json_answer(LaunchResponse.model_validate(answer))


async def fast_play(request: FastRequest) -> Answer | None:
    fast_caller(request)
    body = parse_body(ROUND_BODY, request)
    if body is None:
        return None
    answer = await play_round(body, request.state.router)
    return json_answer(RoutedRound.model_validate(answer))


def create_app(settings: RouterSettings | None = None) -> FastAPI:
    """The router app; settings from ``SPIKEKIT_*`` unless given."""
    settings = settings or RouterSettings()
    holder: list[RouterState] = []
    checks: dict[str, Check] = {}

    def redis() -> aioredis.Redis | None:
        runtime = holder[0].runtime if holder else None
        return runtime.redis if runtime else None

    if settings.redis_url:
        checks["redis"] = redis_check(redis, settings.dependency_timeout_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ctx = holder[0]
        runtime = bootstrap(settings, ctx.metrics)
        runtime.board.start()
        ctx.runtime = runtime
        try:
            yield
        finally:
            ctx.runtime = None
            await runtime.close()

    app, base = service_app(
        settings,
        "spikekit game router",
        checks,
        lifespan=lifespan,
        description="Routes launches and rounds to game studios; launches and rounds are "
        "for the gateway only, signed with its key (X-Spikekit-*). See docs/router-api.md "
        "and docs/security.md.",
    )
    ctx = RouterState(settings, RouterMetrics(base))
    holder.append(ctx)
    app.state.router = ctx
    app.state.verifier = settings.verifier()
    install_error_handlers(app)
    app.include_router(routes)
    table = fast_routes(app)
    table.add("POST", "/v1/launch", fast_launch)
    table.add("POST", "/v1/rounds", fast_play)
    app.add_middleware(BodyLimit, max_bytes=settings.router_max_body_bytes)
    return app
