"""Every error the gateway answers is ``{"error": code, "detail": text}``, never a 500 for input.

Malformed JSON 400 ``malformed_json``; no or invalid session 401 ``unauthorized``;
unknown route 404 ``not_found``; wrong method 405; a body over the limit 413
``body_too_large`` (before it is read, by :class:`~..common.limits.BodyLimit`); a
field out of its constraints 422 ``invalid_request`` (the field is named, the input
never echoed); the dependencies' answers as :func:`~..domain.upstream_error` maps
them; beyond the in-flight bound 503 ``overloaded`` + ``Retry-After`` (by
:class:`Backpressure`, before any work). The mechanism is the services' own
(:mod:`~spikekit.reference_platform.common.errors`), in its public format.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from spikekit.reference_platform.common import oplog
from spikekit.reference_platform.common.errors import (
    PUBLIC,
    add_handler,
    retry_after,
)
from spikekit.reference_platform.common.errors import (
    install_error_handlers as install_common_handlers,
)
from spikekit.reference_platform.common.limits import refuse
from spikekit.reference_platform.gateway.domain import GatewayError
from spikekit.reference_platform.gateway.service_layer.backpressure import InFlightBound


def gateway_error_response(error: GatewayError) -> JSONResponse:
    headers = retry_after(error.retry_after_s)
    return PUBLIC.response(error.status, error.code, error.detail, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    install_common_handlers(app, PUBLIC)
    add_handler(app, GatewayError, gateway_error_response)


class Backpressure:
    """ASGI middleware: the players' API (``/api/...``) admitted through an
    :class:`InFlightBound`; a request beyond it gets 503 + ``Retry-After`` at once."""

    def __init__(self, app: ASGIApp, bound: InFlightBound, retry_after_s: int) -> None:
        self.app = app
        self.bound = bound
        self.retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if not self.bound.try_enter():
            detail = f"more than {self.bound.limit} requests in flight on this replica"
            oplog.event(
                "shed", "warning", "backpressure", reason="backpressure", limit=self.bound.limit
            )
            await refuse(send, 503, "overloaded", detail, PUBLIC, retry_after_s=self.retry_after_s)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.bound.leave()
