"""Every error the wallet API answers is a JSON ``ErrorResponse`` with a 4xx or 503 status.

Bad input never reaches a 500: malformed JSON (400), a missing or wrong
signature (401), an unknown player or provider (404), a transaction id reused
with another payload (409), an oversized body (413), a field out of its
constraints (422); a database that does not answer in time gives 503 with
``Retry-After``. The mechanism is :mod:`~spikekit.reference_platform.common.errors`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from spikekit.reference_platform.common.errors import (
    add_handler,
    error_response,
    retry_after,
)
from spikekit.reference_platform.common.errors import (
    install_error_handlers as install_common_handlers,
)
from spikekit.reference_platform.wallet.domain import (
    InvalidAmount,
    TransactionMismatch,
    UnknownPlayer,
    WalletError,
)
from spikekit.reference_platform.wallet.service_layer.unit_of_work import WalletUnavailable

RETRY_AFTER_S = "1"
TIMEOUT_MESSAGE = "the wallet did not finish in time"


def wallet_error_response(error: WalletError) -> JSONResponse:
    if isinstance(error, WalletUnavailable):
        return error_response(503, "UNAVAILABLE", str(error), headers=retry_after(RETRY_AFTER_S))
    if isinstance(error, UnknownPlayer):
        return error_response(404, "UNKNOWN_PLAYER", str(error))
    if isinstance(error, TransactionMismatch):
        return error_response(409, "TX_MISMATCH", str(error))
    if isinstance(error, InvalidAmount):
        return error_response(422, "INVALID_AMOUNT", str(error))
    return error_response(400, "BAD_REQUEST", str(error))


def timeout_response() -> JSONResponse:
    """The answer to a request that ran out of time (as the common ``TimeoutError`` handler)."""
    return error_response(503, "TIMEOUT", TIMEOUT_MESSAGE, headers=retry_after(RETRY_AFTER_S))


def install_error_handlers(app: FastAPI) -> None:
    install_common_handlers(app, timeout=TIMEOUT_MESSAGE, timeout_retry_after_s=int(RETRY_AFTER_S))
    add_handler(app, WalletError, wallet_error_response)
