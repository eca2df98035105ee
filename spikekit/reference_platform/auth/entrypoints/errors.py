"""Every error the auth API answers is a JSON ``ErrorResponse`` with a 4xx or 503 status.

Malformed JSON 400, invalid credentials or session 401, username taken 409,
oversized body 413, a field out of its constraints 422, rate limited 429 with
``Retry-After``, too many password checks in progress or a dependency down 503
with ``Retry-After``. The shape is the wallet's: ``{"error": {code, message, details}}``,
the mechanism :mod:`~spikekit.reference_platform.common.errors`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from spikekit.reference_platform.auth.domain import (
    AuthError,
    AuthUnavailable,
    InvalidCredentials,
    InvalidSession,
    Overloaded,
    RateLimited,
    UsernameTaken,
)
from spikekit.reference_platform.common import oplog
from spikekit.reference_platform.common.errors import (
    add_handler,
    error_response,
    retry_after,
)
from spikekit.reference_platform.common.errors import (
    install_error_handlers as install_common_handlers,
)

UNAVAILABLE_RETRY_AFTER_S = 1


def auth_error_response(error: AuthError) -> JSONResponse:
    match error:
        case InvalidCredentials():
            return error_response(401, "INVALID_CREDENTIALS", str(error))
        case InvalidSession():
            return error_response(401, "INVALID_SESSION", str(error))
        case UsernameTaken():
            return error_response(409, "USERNAME_TAKEN", str(error))
        case RateLimited():
            oplog.event("login_rate_limited", "info", retry_after_s=error.retry_after_s)
            headers = retry_after(error.retry_after_s)
            return error_response(429, "RATE_LIMITED", str(error), (), headers)
        case Overloaded():
            oplog.event("shed", "warning", "overloaded", reason="overloaded", what="password check")
            headers = retry_after(error.retry_after_s)
            return error_response(503, "OVERLOADED", str(error), (), headers)
        case AuthUnavailable():
            oplog.event("dependency_unavailable", "error", str(error), error=str(error))
            headers = retry_after(UNAVAILABLE_RETRY_AFTER_S)
            return error_response(503, "UNAVAILABLE", str(error), (), headers)
    return error_response(400, "BAD_REQUEST", str(error))


def install_error_handlers(app: FastAPI) -> None:
    install_common_handlers(app, timeout="a dependency did not answer in time")
    add_handler(app, AuthError, auth_error_response)
