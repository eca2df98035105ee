"""The auth service's ASGI app: register, login, validate a session, logout.

``create_app()`` is the factory the supervisor runs; tests pass their own
:class:`AuthSettings`. Connections open in the lifespan, never at import.
Registering and logging in create an account or a session for any username, so
both are for the gateway only, signed with its key (``X-Spikekit-*``,
:mod:`~spikekit.reference_platform.common.service_auth`); validating and ending a
session need the session's token and are not signed. The login's client address is
the first entry of ``X-Forwarded-For`` (set by the gateway, the only caller a login
is accepted from) when it is an IP address, else the peer's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from pydantic import TypeAdapter

from spikekit.reference_platform.auth.adapters.metrics import AuthMetrics
from spikekit.reference_platform.auth.bootstrap import Running, connect
from spikekit.reference_platform.auth.domain import AuthError, AuthUnavailable
from spikekit.reference_platform.auth.entrypoints.errors import install_error_handlers
from spikekit.reference_platform.auth.entrypoints.schemas import (
    LoginRequest,
    LoginResponse,
    RegisterRequest,
    RegisterResponse,
    SessionResponse,
    TokenRequest,
)
from spikekit.reference_platform.auth.service_layer.handlers import Auth
from spikekit.reference_platform.auth.settings import AuthSettings
from spikekit.reference_platform.common.caller_auth import AUTH_ERRORS, CALLER_CHECK
from spikekit.reference_platform.common.checks import Check, postgres_check, redis_check
from spikekit.reference_platform.common.errors import openapi_errors
from spikekit.reference_platform.common.fast_routes import (
    Answer,
    FastRequest,
    json_answer,
    parse_body,
)
from spikekit.reference_platform.common.limits import BodyLimit
from spikekit.reference_platform.common.service_app import ServiceMetrics, fast_routes, service_app
from spikekit.reference_platform.common.tasks import stop_task


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return openapi_errors((*statuses, 422))


LOGIN_401 = openapi_errors(
    {
        401: "INVALID_CREDENTIALS: wrong username or password; UNAUTHENTICATED: a missing, "
        "stale or wrong caller signature (X-Spikekit-*)"
    }
)


def _signed_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A signed route's answers: its own, and 401 / 403 for the caller's signature."""
    return {**_errors(*statuses), **AUTH_ERRORS}


def client_address(request: Request) -> str:
    forwarded = request.headers.get("x-forwarded-for", "")
    first = forwarded.split(",", 1)[0].strip()[:64]
    if first:
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(first))
    return request.client.host if request.client else "unknown"


async def handlers(request: Request) -> Auth:
    return handlers_of(request.app.state)


def handlers_of(state: Any) -> Auth:
    running: Running | None = getattr(state, "auth", None)
    if running is None:
        raise AuthUnavailable("auth", "not started")
    return running.auth


TOKEN_BODY = TypeAdapter(TokenRequest)


async def fast_validate(request: FastRequest) -> Answer | None:
    """``POST /sessions/validate`` without FastAPI's machinery (common/fast_routes.py): the
    gateway asks it for every session it has not seen in the last seconds."""
    body = parse_body(TOKEN_BODY, request)
    if body is None:
        return None
    session = await handlers_of(request.state).validate(body.token)
    return json_answer(
        SessionResponse(player_id=session.player_id, expires_in=session.expires_in_s)
    )


Handlers = Annotated[Auth, Depends(handlers)]


async def _refresh_gauge(running: Running, metrics: AuthMetrics, interval_s: float) -> None:
    while True:
        with contextlib.suppress(AuthError):
            metrics.active_sessions.set(await running.sessions.active())
        await asyncio.sleep(interval_s)


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    live: dict[str, Running] = {}
    timeout = settings.dependency_timeout_s
    checks: dict[str, Check] = {
        "postgres": postgres_check(lambda: live["auth"].pool if live else None, timeout),
        "redis": redis_check(lambda: live["auth"].redis if live else None, timeout),
    }
    service_metrics = ServiceMetrics(settings.service)
    metrics = AuthMetrics(service_metrics.registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with connect(settings, metrics) as running:
            live["auth"] = app.state.auth = running
            gauge = asyncio.create_task(
                _refresh_gauge(running, metrics, settings.auth_gauge_interval_s)
            )
            try:
                yield
            finally:
                await stop_task(gauge)
                live.clear()
                app.state.auth = None

    app, _ = service_app(
        settings,
        "spikekit auth",
        checks,
        metrics=service_metrics,
        lifespan=lifespan,
        description="Password checks (argon2id), session tokens, login rate limits. "
        "Register and login are for the gateway only, signed with its key (X-Spikekit-*).",
    )
    app.state.verifier = settings.verifier()
    install_error_handlers(app)
    fast_routes(app).add("POST", "/sessions/validate", fast_validate)
    app.add_middleware(BodyLimit, max_bytes=settings.auth_max_body_bytes)

    @app.post(
        "/register",
        status_code=201,
        response_model=RegisterResponse,
        responses=_signed_errors(409, 503),
        dependencies=[CALLER_CHECK],
    )
    async def register(body: RegisterRequest, auth: Handlers) -> RegisterResponse:
        """Create credentials for a new username; answers the new player id."""
        return RegisterResponse(player_id=await auth.register(body.username, body.password))

    @app.post(
        "/login",
        response_model=LoginResponse,
        responses={**_signed_errors(429, 503), **LOGIN_401},
        dependencies=[CALLER_CHECK],
    )
    async def login(body: LoginRequest, request: Request, auth: Handlers) -> LoginResponse:
        """Check a password and open a session (429 and 503 carry ``Retry-After``)."""
        session = await auth.login(body.username, body.password, client_address(request))
        return LoginResponse(
            token=session.token, player_id=session.player_id, expires_in=session.expires_in_s
        )

    @app.post("/sessions/validate", response_model=SessionResponse, responses=_errors(401, 503))
    async def validate(body: TokenRequest, auth: Handlers) -> SessionResponse:
        """The player of a live session and the seconds it has left."""
        session = await auth.validate(body.token)
        return SessionResponse(player_id=session.player_id, expires_in=session.expires_in_s)

    @app.post("/logout", status_code=204, response_class=Response, responses=_errors(503))
    async def logout(body: TokenRequest, auth: Handlers) -> Response:
        """End a session; an unknown token is not an error."""
        await auth.logout(body.token)
        return Response(status_code=204)

    return app
