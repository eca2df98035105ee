"""The signed seamless-wallet calls a studio makes, retried like a real aggregator's.

Every call is one JSON body, signed once (``X-Wallet-Signature``) and sent again
byte for byte on a timeout, a broken connection, a 429 or a 5xx: the same ``tx_id``,
so the wallet applies it once. After ``attempts`` tries the call gives up with
:class:`WalletGaveUp`; the caller decides (a debit given up is rolled back).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from spikekit.errors import SpikekitError
from spikekit.reference_platform.common import oplog
from spikekit.reference_platform.common.http_client import (
    HttpPool,
    HttpResponse,
    RequestTimeout,
    TransportError,
)
from spikekit.reference_platform.providers.domain import RoundIds
from spikekit.reference_platform.providers.metrics import ProviderMetrics
from spikekit.reference_platform.wallet.signing import signed_headers

SETTLE = "bet-and-settle"  # the operation (path and metrics label) of a bet and settle


class WalletCallError(SpikekitError):
    """A wallet call without a business answer."""


class _Retryable(WalletCallError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class WalletGaveUp(WalletCallError):
    """No answer after every attempt; the transaction may or may not be applied."""

    def __init__(self, operation: str, tx_id: str, attempts: int, reason: str) -> None:
        self.operation = operation
        self.tx_id = tx_id
        super().__init__(f"{operation} {tx_id}: gave up after {attempts} attempts ({reason})")


class WalletRejected(WalletCallError):
    """A 4xx: the request itself is wrong (unknown player, bad signature, ...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(f"{status} {code}: {message}")


@dataclass(frozen=True)
class WalletAnswer:
    ok: bool
    code: str
    balance: int
    replayed: bool


@dataclass(frozen=True)
class RetryPolicy:
    timeout_s: float
    attempts: int
    backoff_s: float


class SeamlessWallet:
    """``debit``, ``credit``, ``rollback``, ``bet_and_settle`` of one studio (provider API)."""

    def __init__(
        self,
        studio: str,
        secret: str,
        pool: HttpPool,
        policy: RetryPolicy,
        metrics: ProviderMetrics | None = None,
    ) -> None:
        self.studio = studio
        self.secret = secret
        self.pool = pool
        self.policy = policy
        self.metrics = metrics

    async def debit(
        self, player_id: str, tx_id: str, round_id: str, amount: int, game: str
    ) -> WalletAnswer:
        body = {"player_id": player_id, "tx_id": tx_id, "round_id": round_id, "amount": amount}
        return await self.call("debit", tx_id, {**body, "game_id": game})

    async def credit(
        self, player_id: str, tx_id: str, round_id: str, amount: int, game: str
    ) -> WalletAnswer:
        body = {"player_id": player_id, "tx_id": tx_id, "round_id": round_id, "amount": amount}
        return await self.call("credit", tx_id, {**body, "game_id": game})

    async def bet_and_settle(
        self, player_id: str, ids: RoundIds, bet: int, win: int, game: str
    ) -> WalletAnswer:
        """An instant round's bet and win in one call (the win applied only if the bet is);
        ``code`` is the bet's refusal, or the win's answer."""
        body = {
            "player_id": player_id,
            "round_id": ids.round_id,
            "bet_tx_id": ids.bet_tx,
            "bet": bet,
            "win_tx_id": ids.win_tx,
            "win": win,
            "game_id": game,
        }
        return await self.call(SETTLE, ids.bet_tx, body)

    async def rollback(
        self, player_id: str, tx_id: str, round_id: str, original_tx_id: str
    ) -> WalletAnswer:
        body = {
            "player_id": player_id,
            "tx_id": tx_id,
            "round_id": round_id,
            "original_tx_id": original_tx_id,
        }
        return await self.call("rollback", tx_id, body)

    async def call(self, operation: str, tx_id: str, body: Mapping[str, object]) -> WalletAnswer:
        """Send ``body`` until a business answer, or raise :class:`WalletGaveUp`."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = signed_headers(self.secret, raw)
        path = f"/v1/providers/{self.studio}/{operation}"
        try:  # the first attempt without tenacity's machinery (most calls need no other)
            return await self._attempt(operation, path, raw, headers)
        except _Retryable as error:
            first: _Retryable | None = error

        async def attempt() -> WalletAnswer:
            """The first failure replayed as tenacity's attempt 1, then real attempts: the
            same counts, backoff and callbacks as if tenacity had made the first one."""
            nonlocal first
            if first is not None:
                failed, first = first, None
                raise failed
            return await self._attempt(operation, path, raw, headers)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=wait_exponential_jitter(multiplier=self.policy.backoff_s, max=1.0),
            retry=retry_if_exception_type(_Retryable),
            before_sleep=lambda _: self._count_retry(operation),
            retry_error_callback=lambda state: self._give_up(operation, tx_id, state),
        )
        answer: WalletAnswer = await retrying(attempt)
        return answer

    async def _attempt(
        self, operation: str, path: str, raw: bytes, headers: dict[str, str]
    ) -> WalletAnswer:
        started = time.perf_counter()
        try:
            response = await self.pool.request(
                "POST", path, raw, headers, timeout=self.policy.timeout_s
            )
        except TransportError as error:
            reason = "timeout" if isinstance(error, RequestTimeout) else "connection"
            oplog.event(
                f"dependency_{reason}",
                "warning",
                "wallet",
                dependency="wallet",
                operation=operation,
            )
            self._error(operation, reason)
            raise _Retryable(reason) from error
        finally:
            if self.metrics is not None:
                self.metrics.wallet_latency.labels(operation).observe(time.perf_counter() - started)
        return self._answer(operation, response)

    def _answer(self, operation: str, response: HttpResponse) -> WalletAnswer:
        if response.status == 429 or response.status >= 500:
            self._error(operation, f"status_{response.status}")
            raise _Retryable(f"status {response.status}")
        try:
            payload = response.json()
        except ValueError as error:
            self._error(operation, "bad_json")
            raise _Retryable("an answer that is not JSON") from error
        if not isinstance(payload, dict):
            self._error(operation, "bad_json")
            raise _Retryable("an answer that is not a JSON object")
        if response.status != 200:
            self._error(operation, f"status_{response.status}")
            detail = payload.get("error") or {}
            raise WalletRejected(
                response.status, str(detail.get("code")), str(detail.get("message"))
            )
        return WalletAnswer(
            ok=payload.get("status") == "ok",
            code=str(payload.get("code")),
            balance=int(payload.get("balance", 0)),
            replayed=response.headers.get("idempotent-replayed") == "true",
        )

    def _error(self, operation: str, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.wallet_errors.labels(operation, reason).inc()

    def _count_retry(self, operation: str) -> None:
        if self.metrics is not None:
            self.metrics.wallet_retries.labels(operation).inc()

    def _give_up(self, operation: str, tx_id: str, state: RetryCallState) -> WalletAnswer:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        reason = error.reason if isinstance(error, _Retryable) else repr(error)
        raise WalletGaveUp(operation, tx_id, state.attempt_number, reason)
