"""Every error the auth API answers is a JSON ``ErrorResponse`` with a 4xx or 503 status.

Malformed JSON 400, invalid credentials or session 401, username taken 409,
oversized body 413, a field out of its constraints 422, rate limited 429 with
``Retry-After``, too many password checks in progress or a dependency down 503
with ``Retry-After``. The shape is the wallet's: ``{"error": {code, message, details}}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spikekit.reference_platform.auth.domain import (
    AuthError,
    AuthUnavailable,
    InvalidCredentials,
    InvalidSession,
    Overloaded,
    RateLimited,
    UsernameTaken,
)

UNAVAILABLE_RETRY_AFTER_S = 1


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[object] = (),
    retry_after_s: int | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}
    headers = None if retry_after_s is None else {"Retry-After": str(retry_after_s)}
    return JSONResponse(body, status_code=status, headers=headers)


def auth_error_response(error: AuthError) -> JSONResponse:
    match error:
        case InvalidCredentials():
            return error_response(401, "INVALID_CREDENTIALS", str(error))
        case InvalidSession():
            return error_response(401, "INVALID_SESSION", str(error))
        case UsernameTaken():
            return error_response(409, "USERNAME_TAKEN", str(error))
        case RateLimited():
            return error_response(429, "RATE_LIMITED", str(error), [], error.retry_after_s)
        case Overloaded():
            return error_response(503, "OVERLOADED", str(error), [], error.retry_after_s)
        case AuthUnavailable():
            return error_response(503, "UNAVAILABLE", str(error), [], UNAVAILABLE_RETRY_AFTER_S)
    return error_response(400, "BAD_REQUEST", str(error))


def install_error_handlers(app: FastAPI) -> None:
    async def auth_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, AuthError)
        return auth_error_response(error)

    async def timeout(_: Request, __: Exception) -> JSONResponse:
        return error_response(503, "TIMEOUT", "a dependency did not answer in time", [], 1)

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = list(error.errors())
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "MALFORMED_JSON", "the body is not valid JSON")
        details = [
            {"loc": list(p.get("loc", ())), "msg": p.get("msg", ""), "type": p.get("type", "")}
            for p in problems
        ]  # never echo the input: it may hold a password
        return error_response(422, "INVALID_REQUEST", "the request breaks the contract", details)

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(error.status_code, "HTTP_ERROR")
        response = error_response(error.status_code, code, str(error.detail))
        response.headers.update(error.headers or {})
        return response

    app.add_exception_handler(AuthError, auth_error)
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
            await self._refuse(send, 413 if declared.isdigit() else 400)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
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
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
