"""The error answers the providers and the router document: ``{"error": {code, message, details}}``.

The shape is the wallet's, the mechanism :mod:`~spikekit.reference_platform.common.errors`
(routes raise its :class:`~spikekit.reference_platform.common.errors.ApiError`).
"""

from __future__ import annotations

from typing import Any

from spikekit.reference_platform.common.caller_auth import AUTH_ERRORS
from spikekit.reference_platform.common.errors import openapi_errors

ERRORS: dict[int | str, dict[str, Any]] = openapi_errors(
    {
        400: "malformed JSON",
        401: "a session id not issued for this player and game",
        402: "insufficient funds",
        404: "unknown game or player",
        413: "body too large",
        422: "a field breaks its constraints",
        429: "over capacity or rate limited; retry after Retry-After seconds",
        503: "unavailable (wallet, provider or injected fault); retry after Retry-After",
        504: "held by a lost hang (fault) for 10 minutes, never played",
    }
)

# launches and rounds: signed by the calling service (the gateway at the router, the
# router at a studio); a studio's 401 is also its answer to a session it did not issue
SIGNED_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    **AUTH_ERRORS,
    **openapi_errors(
        {
            401: "missing, unknown, stale or wrong caller signature (X-Spikekit-*); at a "
            "studio also a session id not issued for this player and game",
        }
    ),
}
