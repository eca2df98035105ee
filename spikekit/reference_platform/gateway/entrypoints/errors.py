"""Every error the gateway answers is ``{"error": code, "detail": text}``, never a 500 for input.

Malformed JSON 400 ``malformed_json``; no or invalid session 401 ``unauthorized``;
unknown route 404 ``not_found``; wrong method 405; a body over the limit 413
``body_too_large`` (before it is read, by :class:`BodyLimit`); a field out of its
constraints 422 ``invalid_request`` (the field is named, the input never echoed);
the dependencies' answers as :func:`~..domain.upstream_error` maps them; beyond the
in-flight bound 503 ``overloaded`` + ``Retry-After`` (by :class:`Backpressure`,
before any work).
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spikekit.reference_platform.gateway.domain import GatewayError
from spikekit.reference_platform.gateway.service_layer.backpressure import InFlightBound


def error_response(
    status: int, code: str, detail: str, retry_after_s: int | None = None
) -> JSONResponse:
    headers = None if retry_after_s is None else {"Retry-After": str(retry_after_s)}
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _problem(problem: dict[str, object]) -> str:
    loc = problem.get("loc", ())
    where = ".".join(str(part) for part in loc if part != "body") if isinstance(loc, tuple) else ""
    return f"{where or 'body'}: {problem.get('msg', 'invalid')}"


def install_error_handlers(app: FastAPI) -> None:
    async def gateway_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, GatewayError)
        return error_response(error.status, error.code, error.detail, error.retry_after_s)

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = list(error.errors())
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "malformed_json", "the body is not valid JSON")
        detail = "; ".join(_problem(p) for p in problems[:5])  # never the input: a password?
        return error_response(422, "invalid_request", detail)

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        response = error_response(error.status_code, code, str(error.detail))
        response.headers.update(error.headers or {})
        return response

    app.add_exception_handler(GatewayError, gateway_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)


async def _refuse(
    send: Send, status: int, code: str, detail: str, retry_after_s: int | None = None
) -> None:
    body = json.dumps({"error": code, "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after_s is not None:
        headers.append((b"retry-after", str(retry_after_s).encode()))
    if status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is never read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


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
            await _refuse(send, 503, "overloaded", detail, self.retry_after_s)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.bound.leave()


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
        if declared is not None and not declared.isdigit():
            await _refuse(send, 400, "bad_content_length", "Content-Length is not a number")
            return
        if declared is not None and int(declared) > self.max_bytes:
            await _refuse(send, 413, "body_too_large", f"the body is over {self.max_bytes} bytes")
            return
        if declared is not None:  # the server holds the body to its declared length
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []  # chunked: read it here, bounded, then replay it
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(
                    send, 413, "body_too_large", f"the body is over {self.max_bytes} bytes"
                )
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
