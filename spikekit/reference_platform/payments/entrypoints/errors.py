"""Every error the payments API answers is a JSON ``ErrorResponse``, never a bare 500.

Malformed JSON 400, unknown payment 404, an idempotency key reused with another
payload 409, an oversized body 413, a field out of its constraints 422; a full
queue, Redis or the wallet not answering (fragile profile: a synchronous
payment that ran out of time) 503 with ``Retry-After``. The mechanism is
:mod:`~spikekit.reference_platform.common.errors`.
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
from spikekit.reference_platform.payments.domain import (
    IdempotencyMismatch,
    PaymentError,
    Unavailable,
)
from spikekit.reference_platform.payments.service_layer.handlers import NotFound, QueueFull


def install_error_handlers(app: FastAPI, retry_after_s: int) -> None:
    retry = retry_after(retry_after_s)

    def payment_error(error: PaymentError) -> JSONResponse:
        if isinstance(error, QueueFull):
            return error_response(
                503, "QUEUE_FULL", str(error), headers=retry_after(error.retry_after_s)
            )
        if isinstance(error, Unavailable):
            return error_response(503, "UNAVAILABLE", str(error), headers=retry)
        if isinstance(error, NotFound):
            return error_response(404, "NOT_FOUND", str(error))
        if isinstance(error, IdempotencyMismatch):
            return error_response(409, "IDEMPOTENCY_MISMATCH", str(error))
        return error_response(422, "INVALID_PAYMENT", str(error))

    install_common_handlers(
        app,
        timeout="the payment did not finish in time; it stays pending",
        timeout_retry_after_s=retry_after_s,
    )
    add_handler(app, PaymentError, payment_error)
