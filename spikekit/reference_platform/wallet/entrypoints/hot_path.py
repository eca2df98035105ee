"""The providers' money calls (debit, credit, rollback, bet and settle) served without
FastAPI's machinery.

A pure ASGI middleware in front of the FastAPI routes. It answers a signed
``POST /v1/providers/{provider}/{debit,credit,rollback,bet-and-settle}`` whose body is valid
JSON for the route's model, with the same answer the route would give, without
routing, dependency solving, the middleware stack and response-model
serialization: those cost more CPU than the money itself. Anything else —
another route, an unknown provider, a wrong signature, a body that does not
validate, a content type other than JSON — goes to the FastAPI app unchanged
(the body replayed), so errors keep the exact answers of the documented routes
and the OpenAPI schema stays the routes' own. The routes in :mod:`.routes`
remain the contract; this module is only a faster way to the same answers.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spikekit.reference_platform.wallet.domain import WalletError
from spikekit.reference_platform.wallet.entrypoints.errors import (
    timeout_response,
    wallet_error_response,
)
from spikekit.reference_platform.wallet.entrypoints.models import (
    BetSettleRequest,
    BetSettleResponse,
    CreditRequest,
    DebitRequest,
    RollbackRequest,
    TxResponse,
)
from spikekit.reference_platform.wallet.entrypoints.routes import (
    REPLAYED_HEADER,
    SETTLE,
    WalletContext,
)
from spikekit.reference_platform.wallet.signing import SIGNATURE_HEADER, verify

_SIGNATURE = SIGNATURE_HEADER.lower().encode()
_REPLAYED = (REPLAYED_HEADER.lower().encode(), b"true")
_JSON = b"application/json"


Body = DebitRequest | CreditRequest | RollbackRequest | BetSettleRequest


@dataclass(frozen=True)
class Operation:
    name: str  # the metrics' operation label, as the route's
    model: type[Body]


OPERATIONS = {
    "debit": Operation("debit", DebitRequest),
    "credit": Operation("credit", CreditRequest),
    "rollback": Operation("rollback", RollbackRequest),
    "bet-and-settle": Operation(SETTLE, BetSettleRequest),
}


class HotPath:
    """ASGI middleware: the hot money routes answered directly, everything else passed on."""

    def __init__(self, app: ASGIApp, context: WalletContext) -> None:
        self.app = app
        self.ctx = context
        self.secrets = dict(context.settings.wallet_provider_secrets)
        self.currency = context.settings.wallet_currency
        self._metrics = context.metrics.base
        self._observers: dict[tuple[str, int], Any] = {}  # the labelled children, cached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        parts = str(scope["path"]).split("/")
        operation = OPERATIONS.get(parts[-1]) if len(parts) == 5 else None
        secret = self.secrets.get(parts[3]) if len(parts) == 5 else None
        if operation is None or secret is None or parts[1:3] != ["v1", "providers"]:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        signature: str | None = None
        content_type = None
        for name, value in scope["headers"]:
            if name == _SIGNATURE and signature is None:
                signature = value.decode("latin-1")
            elif name == b"content-type" and content_type is None:
                content_type = value
        body = await _read(receive)
        if body is None:
            return  # the client went away
        body_model = None
        if content_type == _JSON and verify(secret, body, signature):
            with contextlib.suppress(ValidationError):  # the route answers it
                body_model = operation.model.model_validate_json(body)
        if body_model is None:  # the routes give the documented error
            await self.app(scope, _replay(body, receive), send)
            return
        status = 500  # unless answered: an unexpected error goes on to the 500 handler
        try:
            status = await self._answer(operation, parts[3], body_model, send)
        finally:
            self._observe(parts[4], status, time.perf_counter() - started)

    def _observe(self, operation: str, status: int, seconds: float) -> None:
        """What :class:`~...common.service_app.RequestMetrics` records for a route."""
        observer = self._observers.get((operation, status))
        if observer is None:
            route = f"/v1/providers/{{provider}}/{operation}"
            observer = self._metrics.requests.labels(route, "POST", f"{status // 100}xx")
            self._observers[(operation, status)] = observer
        observer.observe(seconds)
        if status >= 500:
            self._metrics.errors.labels(f"/v1/providers/{{provider}}/{operation}", "POST").inc()

    async def _answer(
        self,
        operation: Operation,
        provider: str,
        body: Body,
        send: Send,
    ) -> int:
        try:
            if isinstance(body, BetSettleRequest):
                pair = await self.ctx.settle(operation.name, body.pair(provider))
                replayed = pair.replayed
                payload = BetSettleResponse.of(pair, self.currency).model_dump_json().encode()
            else:
                answer = await self.ctx.answer(operation.name, body.tx(provider))
                replayed = answer.replayed
                payload = TxResponse.of(answer, self.currency).model_dump_json().encode()
        except WalletError as error:
            return await _send_error(wallet_error_response(error), send)
        except TimeoutError:
            return await _send_error(timeout_response(), send)
        headers = [(b"content-type", _JSON), (b"content-length", str(len(payload)).encode())]
        if replayed:
            headers.append(_REPLAYED)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
        return 200


async def _send_error(response: Any, send: Send) -> int:
    headers = response.raw_headers
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
    return int(response.status_code)


async def _read(receive: Receive) -> bytes | None:
    """The whole request body (its size is bounded by the body limit in front), None on
    a disconnect."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
