"""The wallet's internal payment API over HTTP, idempotent by ``Idempotency-Key``.

``POST {wallet}/v1/players/{player}/deposit|withdraw`` with ``{amount}``, signed as
the payments service (``X-Spikekit-*``, a fresh timestamp on every attempt). The
wallet's answers map to outcomes:

- 200 ``status: ok`` → ok, with the balance; 200 ``status: refused`` → refused
  with the wallet's code (``INSUFFICIENT_FUNDS``);
- 404, 409, 422 and other 4xx → refused with the error code (``UNKNOWN_PLAYER``; a
  401 or 403 means the stack's keys are wrong, and the payment fails: nothing moved);
- 5xx, 429, timeouts, connection errors → :class:`Unavailable` after
  ``attempts`` tries spread over the replicas (the call is safe to repeat), waiting a
  random ("full jitter") 0..0.1·2ⁿ s between tries so that workers retrying after one
  outage do not come back in step (tenacity).
"""

from __future__ import annotations

import json
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from spikekit.errors import ConfigError
from spikekit.reference_platform.common import oplog
from spikekit.reference_platform.common.http_client import HttpPool, TransportError
from spikekit.reference_platform.common.service_auth import Signer
from spikekit.reference_platform.payments.domain import Outcome, Unavailable
from spikekit.reference_platform.payments.service_layer.ports import AbstractWallet

RETRYABLE = frozenset({429, 500, 502, 503, 504})
#: Between tries: random in [0, min(RETRY_CAP_S, RETRY_BASE_S · 2ⁿ)] (n = the try).
RETRY_BASE_S, RETRY_CAP_S = 0.05, 1.0


class _Retry(Exception):
    """One try got no usable answer (``reason`` says why); the call may be repeated."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def outcome_of(status: int, body: Any) -> Outcome | None:
    """The outcome of one wallet answer; None when the call should be retried."""
    if status in RETRYABLE or status >= 500:
        return None
    if status == 200 and isinstance(body, dict):
        if body.get("status") == "ok":
            balance = body.get("balance")
            return Outcome(ok=True, balance=balance if isinstance(balance, int) else None)
        return Outcome.refused(str(body.get("code", "WALLET_REFUSED")))
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return Outcome.refused(str(code or f"WALLET_HTTP_{status}"))


class HttpWallet(AbstractWallet):
    """Round-robin over the wallet replicas' base URLs, bounded pool, a deadline on every call
    (the services' shared :class:`~spikekit.reference_platform.common.http_client.HttpPool`)."""

    def __init__(
        self,
        base_urls: list[str],
        *,
        timeout_s: float,
        signer: Signer | None,
        connections: int = 32,
        attempts: int = 3,
    ) -> None:
        if not base_urls:
            raise ConfigError("the payments service needs the wallet's URL (SPIKEKIT_WALLET_URLS)")
        self._pool = HttpPool(base_urls, size=connections, signer=signer)
        self._timeout_s = timeout_s
        self._attempts = attempts

    async def close(self) -> None:
        await self._pool.aclose()

    async def deposit(self, player_id: str, key: str, amount: int) -> Outcome:
        return await self._call("deposit", player_id, key, amount)

    async def withdraw(self, player_id: str, key: str, amount: int) -> Outcome:
        return await self._call("withdraw", player_id, key, amount)

    async def _call(self, operation: str, player_id: str, key: str, amount: int) -> Outcome:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_random_exponential(multiplier=RETRY_BASE_S, max=RETRY_CAP_S),
            retry=retry_if_exception_type(_Retry),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._try(operation, player_id, key, amount)
        except RetryError as error:
            last = error.last_attempt.exception()
            oplog.event(
                "dependency_unavailable", "warning", "wallet", dependency="wallet", error=str(last)
            )
            raise Unavailable("wallet", str(last) if last else "no attempt") from None
        raise Unavailable("wallet", "no attempt")  # attempts < 1

    async def _try(self, operation: str, player_id: str, key: str, amount: int) -> Outcome:
        path = f"/v1/players/{player_id}/{operation}"
        body = json.dumps({"amount": amount}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        try:
            response = await self._pool.request("POST", path, body, headers, self._timeout_s)
        except TransportError as error:
            raise _Retry(f"{error.__class__.__name__}: {error}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        outcome = outcome_of(response.status, answer)
        if outcome is None:
            raise _Retry(f"HTTP {response.status}")
        return outcome
