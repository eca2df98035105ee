"""The payments API (service ``payments``): accept deposits and withdrawals, report their status.

``create_app()`` is the factory the supervisor runs. Accepting is one Redis
round trip (record, index the idempotency key, queue) and answers 202; the
workers (:mod:`.worker`) do the rest. In the fragile profile (or with
``SPIKEKIT_PAYMENTS_QUEUED=false``) the request waits for the provider and
the wallet instead. Every route of ``/v1`` is for the gateway only, signed with its
key (``X-Spikekit-*``, :mod:`~spikekit.reference_platform.common.service_auth`).
See docs/payments-api.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from pydantic import BaseModel

from spikekit.reference_platform.common.caller_auth import AUTH_ERRORS, CALLER_CHECK
from spikekit.reference_platform.common.checks import Check, redis_check
from spikekit.reference_platform.common.errors import openapi_errors
from spikekit.reference_platform.common.limits import BodyLimit
from spikekit.reference_platform.common.service_app import ServiceMetrics, service_app
from spikekit.reference_platform.common.tasks import stop_task
from spikekit.reference_platform.payments.adapters.metrics import PaymentsMetrics, sample_stream
from spikekit.reference_platform.payments.bootstrap import Running, connect
from spikekit.reference_platform.payments.domain import Kind, Payment, Unavailable
from spikekit.reference_platform.payments.entrypoints.errors import install_error_handlers
from spikekit.reference_platform.payments.entrypoints.schemas import (
    ID_PATTERN,
    DepositView,
    PaymentRequest,
    WithdrawalView,
    deposit_view,
    withdrawal_view,
)
from spikekit.reference_platform.payments.service_layer.handlers import Payments
from spikekit.reference_platform.payments.settings import PaymentsSettings

View = TypeVar("View", bound=BaseModel)
REPLAYED_HEADER = "Idempotent-Replayed"
DESCRIPTION = """\
Deposits and withdrawals of the spikekit reference platform: accepted fast
(202 and an id), queued on a Redis Stream, processed by the payments workers
through a simulated payment provider and the wallet. Amounts are integer minor
units. Only the gateway calls it, signed with its key (X-Spikekit-*). See
docs/payments-api.md and docs/security.md.
"""
PaymentIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return openapi_errors((*statuses, 422))


async def _payments(request: Request) -> Payments:
    live: dict[str, Running] = request.app.state.live
    if "payments" not in live:
        raise Unavailable("payments", "starting or stopping")
    return live["payments"].payments


Handlers = Annotated[Payments, Depends(_payments)]


async def _submit(
    payments: Payments,
    kind: Kind,
    body: PaymentRequest,
    response: Response,
    view: Callable[[Payment], View],
) -> View:
    submitted = await payments.submit(kind, body.player_id, body.amount, body.idempotency_key)
    response.status_code = 202
    if submitted.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return view(submitted.payment)


router = APIRouter(
    prefix="/v1", tags=["payments"], dependencies=[CALLER_CHECK], responses=AUTH_ERRORS
)


@router.post(
    "/deposits", status_code=202, response_model=DepositView, responses=_errors(400, 409, 413, 503)
)
async def create_deposit(body: PaymentRequest, response: Response, payments: Handlers) -> Any:
    """Accept a deposit; a repeated idempotency key returns the same deposit."""
    return await _submit(payments, Kind.DEPOSIT, body, response, deposit_view)


@router.get("/deposits/{deposit_id}", response_model=DepositView, responses=_errors(404, 503))
async def get_deposit(deposit_id: PaymentIdPath, payments: Handlers) -> Any:
    """A deposit's status: pending, completed or failed (with the reason)."""
    return deposit_view(await payments.get(Kind.DEPOSIT, deposit_id))


@router.post(
    "/withdrawals",
    status_code=202,
    response_model=WithdrawalView,
    responses=_errors(400, 409, 413, 503),
)
async def create_withdrawal(body: PaymentRequest, response: Response, payments: Handlers) -> Any:
    """Accept a withdrawal; insufficient funds show up as status failed."""
    return await _submit(payments, Kind.WITHDRAWAL, body, response, withdrawal_view)


@router.get(
    "/withdrawals/{withdrawal_id}", response_model=WithdrawalView, responses=_errors(404, 503)
)
async def get_withdrawal(withdrawal_id: PaymentIdPath, payments: Handlers) -> Any:
    """A withdrawal's status: pending, completed or failed (with the reason)."""
    return withdrawal_view(await payments.get(Kind.WITHDRAWAL, withdrawal_id))


def redis_of(live: dict[str, Running]) -> Callable[[], aioredis.Redis | None]:
    return lambda: live["payments"].redis if "payments" in live else None


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    settings = settings or PaymentsSettings()
    live: dict[str, Running] = {}
    checks: dict[str, Check] = {"redis": redis_check(redis_of(live), settings.dependency_timeout_s)}
    base = ServiceMetrics(settings.service)
    metrics = PaymentsMetrics(base)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with connect(settings, metrics) as running:
            live["payments"] = running
            gauges = asyncio.create_task(
                sample_stream(running.queue, metrics, settings.payments_gauge_interval_s)
            )
            try:
                yield
            finally:
                del live["payments"]
                await stop_task(gauges)

    app, _ = service_app(
        settings,
        "spikekit payments",
        checks,
        metrics=base,
        lifespan=lifespan,
        description=DESCRIPTION,
    )
    app.state.live = live
    app.state.verifier = settings.verifier()
    install_error_handlers(app, settings.payments_retry_after_s)
    app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=settings.payments_max_body_bytes)
    return app
