"""Every error the wallet API answers is a JSON ``ErrorResponse`` with a 4xx or 503 status.

Bad input never reaches a 500: malformed JSON (400), a missing or wrong
signature (401), an unknown player or provider (404), a transaction id reused
with another payload (409), an oversized body (413), a field out of its
constraints (422); a database that does not answer in time gives 503 with
``Retry-After``.
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

from spikekit.reference_platform.wallet.domain import (
    InvalidAmount,
    TransactionMismatch,
    UnknownPlayer,
    WalletError,
)
from spikekit.reference_platform.wallet.service_layer.unit_of_work import WalletUnavailable

RETRY_AFTER_S = "1"


class ApiError(Exception):
    """An error answer decided in the entrypoint (signature, provider, ...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(message)


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[object] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}
    return JSONResponse(body, status_code=status, headers=headers)


def _wallet_error(error: WalletError) -> JSONResponse:
    if isinstance(error, WalletUnavailable):
        return error_response(
            503, "UNAVAILABLE", str(error), headers={"Retry-After": RETRY_AFTER_S}
        )
    if isinstance(error, UnknownPlayer):
        return error_response(404, "UNKNOWN_PLAYER", str(error))
    if isinstance(error, TransactionMismatch):
        return error_response(409, "TX_MISMATCH", str(error))
    if isinstance(error, InvalidAmount):
        return error_response(422, "INVALID_AMOUNT", str(error))
    return error_response(400, "BAD_REQUEST", str(error))


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error.status, error.code, error.message)

    async def wallet_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, WalletError)
        return _wallet_error(error)

    async def timeout(_: Request, error: Exception) -> JSONResponse:
        return error_response(
            503, "TIMEOUT", "the wallet did not finish in time", headers={"Retry-After": "1"}
        )

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

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(WalletError, wallet_error)
    app.add_exception_handler(TimeoutError, timeout)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` gets 413 before the app reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send, 413 if declared.isdigit() else 400)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # disconnected
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, 413)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, status: int) -> None:
        code, message = (
            ("BODY_TOO_LARGE", f"the body is over {self.max_bytes} bytes")
            if status == 413
            else ("BAD_CONTENT_LENGTH", "Content-Length is not a number")
        )
        body = json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
