"""How every service answers an error: one exception, two wire formats, shared handlers.

Bad input never reaches a 500: malformed JSON is 400, a field out of its
constraints 422, an unknown route 404, a wrong method 405, an oversized body 413
(:class:`~.limits.BodyLimit`, before the app reads it). Two wire formats share
this mechanism:

- :data:`INTERNAL`, the services' API to one another (wallet, auth, router,
  providers, payments): ``{"error": {"code": "NOT_FOUND", "message": ..., "details": [...]}}``;
- :data:`PUBLIC`, the gateway's players' API: ``{"error": "not_found", "detail": ...}``.

A service installs the shared handlers with :func:`install_error_handlers` and maps
its own domain exceptions with :func:`add_handler`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, JsonValue
from starlette.exceptions import HTTPException

from spikekit.errors import SpikekitError
from spikekit.reference_platform.common import oplog

E = TypeVar("E", bound=Exception)
_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


class ErrorDetail(BaseModel):
    code: str = Field(examples=["INVALID_REQUEST"])
    message: str
    details: list[JsonValue] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer of an internal service."""

    error: ErrorDetail


class ApiError(SpikekitError):
    """An error answer decided by a route, with optional headers (``Retry-After``)."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        super().__init__(message)


class ErrorFormat:
    """The internal services' format: ``{"error": {code, message, details}}``."""

    def body(self, code: str, message: str, details: Sequence[object] = ()) -> dict[str, Any]:
        return {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}

    def invalid(self, problems: Sequence[Mapping[str, Any]]) -> tuple[str, list[object]]:
        """The message and details of a 422; the input itself is never echoed."""
        details: list[object] = [
            {"loc": list(p.get("loc", ())), "msg": p.get("msg", ""), "type": p.get("type", "")}
            for p in problems
        ]
        return "the request breaks the contract", details

    def response(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[object] = (),
        headers: Mapping[str, str] | None = None,
    ) -> JSONResponse:
        return JSONResponse(self.body(code, message, details), status_code=status, headers=headers)


class PublicFormat(ErrorFormat):
    """The gateway's format: ``{"error": code, "detail": text}``, codes in lower case."""

    def body(self, code: str, message: str, details: Sequence[object] = ()) -> dict[str, Any]:
        return {"error": code.lower(), "detail": message}

    def invalid(self, problems: Sequence[Mapping[str, Any]]) -> tuple[str, list[object]]:
        return "; ".join(_problem(p) for p in problems[:5]), []


INTERNAL = ErrorFormat()
PUBLIC = PublicFormat()


def retry_after(seconds: int | str | None) -> dict[str, str] | None:
    """The ``Retry-After`` header, or no headers."""
    return None if seconds is None else {"Retry-After": str(seconds)}


error_response = INTERNAL.response  # an internal service's error answer


def add_handler(app: FastAPI, kind: type[E], answer: Callable[[E], JSONResponse]) -> None:
    """Answer every ``kind`` raised by a route with ``answer(error)``."""

    async def handle(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, kind)
        return answer(error)

    app.add_exception_handler(kind, handle)


def install_error_handlers(
    app: FastAPI,
    fmt: ErrorFormat = INTERNAL,
    *,
    timeout: str | None = None,
    timeout_retry_after_s: int = 1,
) -> None:
    """:class:`ApiError`, validation errors and Starlette's own 404/405 in ``fmt``; with a
    ``timeout`` message, a ``TimeoutError`` out of a route is a 503 ``TIMEOUT``."""

    def api_error(error: ApiError) -> JSONResponse:
        return fmt.response(error.status, error.code, error.message, headers=error.headers)

    def invalid(error: RequestValidationError) -> JSONResponse:
        problems = list(error.errors())
        if any(p.get("type") == "json_invalid" for p in problems):
            return fmt.response(400, "MALFORMED_JSON", "the body is not valid JSON")
        message, details = fmt.invalid(problems)
        return fmt.response(422, "INVALID_REQUEST", message, details)

    def http_error(error: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "HTTP_ERROR")
        return fmt.response(error.status_code, code, str(error.detail), headers=error.headers)

    add_handler(app, ApiError, api_error)
    add_handler(app, RequestValidationError, invalid)
    add_handler(app, HTTPException, http_error)
    _document_malformed_json(app)
    if timeout is not None:
        message, headers = timeout, retry_after(timeout_retry_after_s)

        def timed_out(error: TimeoutError) -> JSONResponse:
            where = _timed_out_in(error)
            oplog.event(f"{where}_timeout", "warning", where, detail=message)
            return fmt.response(503, "TIMEOUT", message, (), headers)

        add_handler(app, TimeoutError, timed_out)


def _timed_out_in(error: BaseException) -> str:
    """``db_pool`` when waiting for a pooled PostgreSQL connection timed out (the pool is
    exhausted), ``db`` for a statement, else ``dependency``."""
    tb = error.__traceback__
    where = "dependency"
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if "asyncpg" in name:
            where = "db_pool" if name.endswith("pool.py") else "db"
        tb = tb.tb_next
    return where


def _document_malformed_json(app: FastAPI) -> None:
    """Every operation with a JSON body documents the 400 its malformed body gets, in the
    format its 422 is documented in (FastAPI's schema knows only the 422)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.get("responses", {})
                    if "requestBody" in operation and "422" in responses:
                        malformed = {**responses["422"], "description": "The body is not JSON"}
                        responses.setdefault("400", malformed)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def openapi_errors(
    described: Mapping[int, str] | Sequence[int], model: type[BaseModel] = ErrorResponse
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each status with the error model (and a description)."""
    if isinstance(described, Mapping):
        return {s: {"model": model, "description": d} for s, d in described.items()}
    return {status: {"model": model} for status in described}


def _problem(problem: Mapping[str, Any]) -> str:
    loc = problem.get("loc", ())
    where = ".".join(str(part) for part in loc if part != "body") if isinstance(loc, tuple) else ""
    return f"{where or 'body'}: {problem.get('msg', 'invalid')}"
