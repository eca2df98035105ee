"""A studio's ASGI app: the game API (launch, rounds) and the control API (faults).

``create_app()`` is the factory the supervisor runs, once per studio; the studio is
``SPIKEKIT_SERVICE`` minus ``provider-``. Launches and rounds are for the router only,
signed with its key (``X-Spikekit-*``,
:mod:`~spikekit.reference_platform.common.service_auth`); the game list, the control API
and ``/health`` are not signed. See docs/providers.md and docs/provider-control-api.md.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import TypeAdapter

from spikekit.reference_platform.common.caller_auth import CALLER_CHECK, fast_caller
from spikekit.reference_platform.common.errors import ApiError, install_error_handlers
from spikekit.reference_platform.common.fast_routes import (
    Answer,
    FastRequest,
    json_answer,
    parse_body,
)
from spikekit.reference_platform.common.limits import BodyLimit
from spikekit.reference_platform.common.service_app import fast_routes, service_app
from spikekit.reference_platform.providers.bootstrap import Runtime, bootstrap
from spikekit.reference_platform.providers.catalogue import GAMES, STUDIOS
from spikekit.reference_platform.providers.errors import ERRORS, SIGNED_ERRORS
from spikekit.reference_platform.providers.faults import ActiveFault, Fault, Rejected
from spikekit.reference_platform.providers.metrics import ProviderMetrics
from spikekit.reference_platform.providers.rounds import RoundError
from spikekit.reference_platform.providers.schemas import (
    FaultIdPath,
    FaultSetAnswer,
    FaultsListing,
    GameInfo,
    LaunchRequest,
    LaunchResponse,
    ProviderEntry,
    ProviderPath,
    ProvidersListing,
    RoundRequest,
    RoundResponse,
)
from spikekit.reference_platform.providers.settings import ProviderSettings


class ProviderState:
    def __init__(self, settings: ProviderSettings, metrics: ProviderMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.runtime: Runtime | None = None
        self.rounds_served = 0

    def ready(self) -> Runtime:
        if self.runtime is None:
            raise ApiError(503, "STARTING", "the provider is starting or stopping", _RETRY)
        return self.runtime


_RETRY = {"Retry-After": "1"}


async def state(request: Request) -> ProviderState:
    value = request.app.state.provider
    assert isinstance(value, ProviderState)
    return value


State = Annotated[ProviderState, Depends(state)]
games = APIRouter(prefix="/v1", tags=["games (for the router)"])
control = APIRouter(prefix="/control", tags=["control (for chaos)"])


def _rejected(ctx: ProviderState, error: Rejected) -> ApiError:
    ctx.metrics.rejected.labels(error.code, str(error.status)).inc()
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return ApiError(error.status, error.code, str(error), headers)


def _round_error(error: RoundError) -> ApiError:
    headers = _RETRY if error.status == 503 else None
    return ApiError(error.status, error.code, str(error), headers)


@games.get("/games", response_model=list[GameInfo])
async def list_games(ctx: State) -> list[GameInfo]:
    """The games this studio offers."""
    rounds = ctx.ready().rounds
    return [
        GameInfo(
            id=g.id,
            name=g.name,
            family=g.family,
            providers=list(g.studios),
            min_bet=g.min_bet,
            max_bet=g.max_bet,
        )
        for g in GAMES.values()
        if g.id in rounds.games
    ]


@games.post(
    "/launch", response_model=LaunchResponse, responses=SIGNED_ERRORS, dependencies=[CALLER_CHECK]
)
async def launch(body: LaunchRequest, ctx: State) -> LaunchResponse:
    """A game session for the player (stateless: any replica of the studio accepts it)."""
    return await launch_game(body, ctx)


async def launch_game(body: LaunchRequest, ctx: ProviderState) -> LaunchResponse:
    runtime = ctx.ready()
    try:
        async with runtime.gate.admit(counts_capacity=False):
            session = runtime.rounds.launch(body.player_id, body.game)
    except Rejected as error:
        raise _rejected(ctx, error) from error
    except RoundError as error:
        raise _round_error(error) from error
    return LaunchResponse(session_id=session, game=body.game, provider=runtime.rounds.studio.name)


@games.post(
    "/rounds", response_model=RoundResponse, responses=SIGNED_ERRORS, dependencies=[CALLER_CHECK]
)
async def play(body: RoundRequest, ctx: State) -> RoundResponse:
    """One round: debit the bet, draw the outcome, credit the win (0 for a loss)."""
    return await play_round(body, ctx)


async def play_round(body: RoundRequest, ctx: ProviderState) -> RoundResponse:
    runtime = ctx.ready()
    try:
        async with runtime.gate.admit(counts_capacity=True):
            result = await runtime.rounds.play(body.player_id, body.game, body.bet, body.session_id)
    except Rejected as error:
        raise _rejected(ctx, error) from error
    except RoundError as error:
        ctx.rounds_served += 1
        raise _round_error(error) from error
    ctx.rounds_served += 1
    return RoundResponse(
        round_id=result.round_id,
        provider=runtime.rounds.studio.name,
        game=result.game,
        bet=result.bet,
        win=result.win,
        balance=result.balance,
        bet_tx_id=result.bet_tx_id,
        win_tx_id=result.win_tx_id,
        settled=result.settled,
    )


@control.get("/providers", response_model=ProvidersListing)
async def list_providers(ctx: State) -> ProvidersListing:
    """The studio this process simulates, its rounds since start and rounds in flight."""
    runtime = ctx.ready()
    studio = runtime.rounds.studio.name
    entry = ProviderEntry(id=studio, rounds=ctx.rounds_served, in_flight=runtime.gate.in_flight)
    return ProvidersListing(providers=[entry])


@control.put(
    "/providers/{provider}/faults/{fault_id}", response_model=FaultSetAnswer, responses=ERRORS
)
async def put_fault(
    provider: ProviderPath, fault_id: FaultIdPath, body: Fault, ctx: State
) -> FaultSetAnswer:
    """Create or replace a fault; it ends when deleted or after ``expires_in_s``."""
    _known(provider)
    expires = time.time() + body.expires_in_s if body.expires_in_s is not None else None
    ctx.ready().gate.faults.put(provider, fault_id, ActiveFault(provider, fault_id, body, expires))
    return FaultSetAnswer(fault_id=fault_id, active=True)


@control.delete("/providers/{provider}/faults/{fault_id}", status_code=204, responses=ERRORS)
async def delete_fault(provider: ProviderPath, fault_id: FaultIdPath, ctx: State) -> Response:
    """End a fault (hung requests are released); 404 when it is not set."""
    _known(provider)
    if not ctx.ready().gate.faults.delete(provider, fault_id):
        raise ApiError(404, "NO_SUCH_FAULT", f"no fault {fault_id!r} on {provider}")
    return Response(status_code=204)


@control.delete("/providers/{provider}/faults", status_code=204, responses=ERRORS)
async def clear_provider(provider: ProviderPath, ctx: State) -> Response:
    """End every fault of ``provider``."""
    _known(provider)
    ctx.ready().gate.faults.clear(provider)
    return Response(status_code=204)


@control.get("/faults", response_model=FaultsListing)
async def list_faults(ctx: State) -> dict[str, object]:
    """Every fault in force on this process, with its expiry (unix seconds or null)."""
    return {"faults": [f.listing() for f in ctx.ready().gate.faults.active()]}


@control.delete("/faults", status_code=204)
async def clear_all(ctx: State) -> Response:
    """End every fault of every provider."""
    ctx.ready().gate.faults.clear()
    return Response(status_code=204)


# the same routes without FastAPI's per-request machinery (common/fast_routes.py)
LAUNCH_BODY = TypeAdapter(LaunchRequest)
ROUND_BODY = TypeAdapter(RoundRequest)


async def fast_launch(request: FastRequest) -> Answer | None:
    fast_caller(request)
    body = parse_body(LAUNCH_BODY, request)
    if body is None:
        return None
    return json_answer(await launch_game(body, request.state.provider))


async def fast_play(request: FastRequest) -> Answer | None:
    fast_caller(request)
    body = parse_body(ROUND_BODY, request)
    if body is None:
        return None
    return json_answer(await play_round(body, request.state.provider))


def _known(provider: str) -> None:
    if provider not in STUDIOS:
        raise ApiError(404, "UNKNOWN_PROVIDER", f"unknown provider {provider!r}")


def create_app(settings: ProviderSettings | None = None) -> FastAPI:
    """The studio's app; settings from ``SPIKEKIT_*`` unless given."""
    settings = settings or ProviderSettings()
    holder: list[ProviderState] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ctx = holder[0]
        ctx.runtime = bootstrap(settings, ctx.metrics)
        try:
            yield
        finally:
            runtime, ctx.runtime = ctx.runtime, None
            await runtime.close()

    studio = settings.studio.name
    app, base = service_app(
        settings,
        f"spikekit provider {studio}",
        {},
        lifespan=lifespan,
        description=f"The simulated game studio {studio!r}: game API (launches and rounds "
        "signed by the router, X-Spikekit-*) and control API.",
    )
    ctx = ProviderState(settings, ProviderMetrics(base))
    holder.append(ctx)
    app.state.provider = ctx
    app.state.verifier = settings.verifier()
    install_error_handlers(app)
    app.include_router(games)
    app.include_router(control)
    table = fast_routes(app)
    table.add("POST", "/v1/launch", fast_launch)
    table.add("POST", "/v1/rounds", fast_play)
    app.add_middleware(BodyLimit, max_bytes=settings.provider_max_body_bytes)
    return app
