"""Every error the payments API answers is a JSON ``ErrorResponse``, never a bare 500.

Malformed JSON 400, unknown payment 404, an idempotency key reused with another
payload 409, an oversized body 413, a field out of its constraints 422; a full
queue, Redis or the wallet not answering (fragile profile: a synchronous
payment that ran out of time) 503 with ``Retry-After``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spikekit.reference_platform.payments.domain import (
    IdempotencyMismatch,
    PaymentError,
    Unavailable,
)
from spikekit.reference_platform.payments.service_layer.handlers import NotFound, QueueFull


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[object] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI, retry_after_s: int) -> None:
    retry = {"Retry-After": str(retry_after_s)}

    async def payment_error(_: Request, error: Exception) -> JSONResponse:
        if isinstance(error, QueueFull):
            headers = {"Retry-After": str(error.retry_after_s)}
            return error_response(503, "QUEUE_FULL", str(error), headers=headers)
        if isinstance(error, Unavailable):
            return error_response(503, "UNAVAILABLE", str(error), headers=retry)
        if isinstance(error, NotFound):
            return error_response(404, "NOT_FOUND", str(error))
        if isinstance(error, IdempotencyMismatch):
            return error_response(409, "IDEMPOTENCY_MISMATCH", str(error))
        return error_response(422, "INVALID_PAYMENT", str(error))

    async def timeout(_: Request, error: Exception) -> JSONResponse:
        message = "the payment did not finish in time; it stays pending"
        return error_response(503, "TIMEOUT", message, headers=retry)

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = list(error.errors())
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "MALFORMED_JSON", "the body is not valid JSON")
        details = [
            {"loc": list(p.get("loc", ())), "msg": p.get("msg", ""), "type": p.get("type", "")}
            for p in problems
        ]
        return error_response(422, "INVALID_REQUEST", "the request breaks the contract", details)

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(error.status_code, "HTTP_ERROR")
        return error_response(error.status_code, code, str(error.detail), headers=error.headers)

    app.add_exception_handler(PaymentError, payment_error)
    app.add_exception_handler(TimeoutError, timeout)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` gets 413 before the app parses it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(send)
                return
            more = message.get("more_body", False)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": {
                    "code": "BODY_TOO_LARGE",
                    "message": f"the body is over {self.max_bytes} bytes (or its length is bad)",
                    "details": [],
                }
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
