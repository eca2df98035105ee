"""JSON errors of the providers and the router: ``{"error": {code, message, details}}``.

The same shape as the wallet's. Bad input never reaches a 500: malformed JSON is
400, a field out of its constraints 422, an unknown route 404, a wrong method 405,
an oversized body 413 (the wallet's ``BodyLimit`` middleware).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, JsonValue
from starlette.exceptions import HTTPException

from spikekit.reference_platform.wallet.entrypoints.errors import error_response


class ErrorDetail(BaseModel):
    code: str = Field(examples=["UNKNOWN_GAME"])
    message: str
    details: list[JsonValue] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer."""

    error: ErrorDetail


class ApiError(Exception):
    """An error answer decided by a route, with optional headers (``Retry-After``)."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        super().__init__(message)


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error.status, error.code, error.message, headers=error.headers)

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
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)


ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "malformed JSON",
        401: "a session id not issued for this player and game",
        402: "insufficient funds",
        404: "unknown game or player",
        413: "body too large",
        422: "a field breaks its constraints",
        429: "over capacity or rate limited; retry after Retry-After seconds",
        503: "unavailable (wallet, provider or injected fault); retry after Retry-After",
    }.items()
}
