"""The wallet's HTTP routes: the signed seamless-wallet API and the internal player API.

Both are signed. The providers' routes with each studio's own secret
(``X-Wallet-Signature``, the seamless-wallet protocol is theirs); the player routes with
the calling service's key and the permission matrix of
:mod:`~spikekit.reference_platform.common.service_auth` (the gateway opens accounts and
reads balances, only payments deposits and withdraws).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from spikekit.reference_platform.common.caller_auth import AUTH_ERRORS, CALLER_CHECK
from spikekit.reference_platform.common.errors import ApiError, openapi_errors
from spikekit.reference_platform.wallet.bootstrap import Runtime
from spikekit.reference_platform.wallet.domain import (
    PAYMENTS,
    Answer,
    TxKind,
    TxRequest,
    WalletError,
)
from spikekit.reference_platform.wallet.entrypoints.models import (
    ID_PATTERN,
    BalanceRequest,
    BalanceResponse,
    BetSettleRequest,
    BetSettleResponse,
    CreditRequest,
    DebitRequest,
    PaymentRequest,
    RollbackRequest,
    TxResponse,
)
from spikekit.reference_platform.wallet.metrics import WalletMetrics
from spikekit.reference_platform.wallet.service_layer.handlers import Wallet
from spikekit.reference_platform.wallet.service_layer.unit_of_work import WalletUnavailable
from spikekit.reference_platform.wallet.settings import PROVIDER_NAME, WalletSettings
from spikekit.reference_platform.wallet.settle import BetAndWin, PairAnswer
from spikekit.reference_platform.wallet.signing import SIGNATURE_HEADER, verify

REPLAYED_HEADER = "Idempotent-Replayed"
SETTLE = "bet_settle"  # the metrics' operation label of a bet and settle
ERRORS: dict[int | str, dict[str, Any]] = openapi_errors(
    {
        400: "malformed JSON",
        401: "missing or wrong signature",
        404: "unknown player or provider",
        409: "transaction id known with another payload",
        413: "body too large",
        422: "a field breaks its constraints",
        503: "storage unavailable or too slow; retry after Retry-After seconds",
    }
)
PLAYER_ERRORS = {**ERRORS, **AUTH_ERRORS}  # the internal API: signed by the calling service

Provider = Annotated[str, Path(pattern=PROVIDER_NAME, description="aurora, blitz, cobalt, ...")]
PlayerPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="unique per deposit or withdrawal; a repeat gets the stored answer",
    ),
]


@dataclass
class WalletContext:
    """What the routes need; ``runtime`` is set by the app's lifespan."""

    settings: WalletSettings
    metrics: WalletMetrics
    runtime: Runtime | None = None

    @property
    def wallet(self) -> Wallet:
        if self.runtime is None:
            raise WalletUnavailable("the wallet is starting or stopping")
        return self.runtime.wallet

    async def answer(self, operation: str, request: TxRequest) -> Answer:
        """The wallet's answer to a money request, within the request timeout, measured."""
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            async with asyncio.timeout(self.settings.wallet_request_timeout_s):
                answer = await self.wallet.execute(request)
            outcome = "replayed" if answer.replayed else answer.code.value
            return answer
        except WalletError as error:
            if not isinstance(error, WalletUnavailable):
                outcome = "rejected"
            raise
        finally:
            self.metrics.observe(operation, outcome, time.perf_counter() - started)

    async def settle(self, operation: str, pair: BetAndWin) -> PairAnswer:
        """The wallet's answer to a bet and settle, within the request timeout, measured."""
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            async with asyncio.timeout(self.settings.wallet_request_timeout_s):
                answer = await self.wallet.settle(pair)
            outcome = "replayed" if answer.replayed else answer.last.code.value
            return answer
        except WalletError as error:
            if not isinstance(error, WalletUnavailable):
                outcome = "rejected"
            raise
        finally:
            self.metrics.observe(operation, outcome, time.perf_counter() - started)

    async def transact(self, operation: str, request: TxRequest, response: Response) -> TxResponse:
        answer = await self.answer(operation, request)
        if answer.replayed:
            response.headers[REPLAYED_HEADER] = "true"
        return TxResponse.of(answer, self.settings.wallet_currency)

    async def balance(self, operation: str, player_id: str) -> BalanceResponse:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.settings.wallet_request_timeout_s):
                account = await self.wallet.balance(player_id)
        finally:
            self.metrics.latency.labels(operation).observe(time.perf_counter() - started)
        return BalanceResponse(
            player_id=player_id, balance=account.balance, currency=account.currency
        )


async def context(request: Request) -> WalletContext:
    ctx = request.app.state.wallet
    assert isinstance(ctx, WalletContext)
    return ctx


Ctx = Annotated[WalletContext, Depends(context)]


async def signed(
    provider: Provider,
    request: Request,
    ctx: Ctx,
    signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER,
            description="hex HMAC-SHA256 of the raw body with the provider's secret",
        ),
    ] = None,
) -> str:
    """The provider, once the body's signature is checked with its secret."""
    secret = ctx.settings.wallet_provider_secrets.get(provider)
    if secret is None:
        raise ApiError(404, "UNKNOWN_PROVIDER", f"unknown provider {provider!r}")
    if not verify(secret, await request.body(), signature):
        raise ApiError(401, "INVALID_SIGNATURE", f"missing or wrong {SIGNATURE_HEADER}")
    return provider


Signed = Annotated[str, Depends(signed)]
providers = APIRouter(prefix="/v1/providers/{provider}", tags=["seamless wallet (providers)"])
players = APIRouter(
    prefix="/v1/players/{player_id}", tags=["players (internal)"], dependencies=[CALLER_CHECK]
)


@providers.post("/balance", response_model=BalanceResponse, responses=ERRORS)
async def provider_balance(provider: Signed, body: BalanceRequest, ctx: Ctx) -> BalanceResponse:
    """The player's balance."""
    return await ctx.balance("balance", body.player_id)


@providers.post("/debit", response_model=TxResponse, responses=ERRORS)
async def debit(provider: Signed, body: DebitRequest, response: Response, ctx: Ctx) -> TxResponse:
    """A bet. Idempotent by (provider, tx_id); refused when funds are insufficient."""
    return await ctx.transact("debit", body.tx(provider), response)


@providers.post("/credit", response_model=TxResponse, responses=ERRORS)
async def credit(provider: Signed, body: CreditRequest, response: Response, ctx: Ctx) -> TxResponse:
    """A win (0 closes a lost round). Refused when the round's bets were rolled back."""
    return await ctx.transact("credit", body.tx(provider), response)


@providers.post("/rollback", response_model=TxResponse, responses=ERRORS)
async def rollback(
    provider: Signed, body: RollbackRequest, response: Response, ctx: Ctx
) -> TxResponse:
    """Cancel a bet; a bet arriving after its rollback is refused (TX_ROLLED_BACK)."""
    return await ctx.transact("rollback", body.tx(provider), response)


@providers.post("/bet-and-settle", response_model=BetSettleResponse, responses=ERRORS)
async def bet_and_settle(
    provider: Signed, body: BetSettleRequest, response: Response, ctx: Ctx
) -> BetSettleResponse:
    """An instant round in one call: the bet and the win, each idempotent by its own tx_id,
    stored in one transaction; a refused bet (e.g. insufficient funds) applies no win."""
    answer = await ctx.settle(SETTLE, body.pair(provider))
    if answer.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return BetSettleResponse.of(answer, ctx.settings.wallet_currency)


@players.get("/balance", response_model=BalanceResponse, responses=PLAYER_ERRORS)
async def player_balance(player_id: PlayerPath, ctx: Ctx) -> BalanceResponse:
    """The player's balance (for the gateway)."""
    return await ctx.balance("player_balance", player_id)


@players.put(
    "",
    response_model=BalanceResponse,
    responses={**PLAYER_ERRORS, 201: {"model": BalanceResponse, "description": "Account opened"}},
)
async def open_account(player_id: PlayerPath, response: Response, ctx: Ctx) -> BalanceResponse:
    """Open the player's account with a zero balance; 201 when created, 200 when it exists."""
    account, created = await ctx.wallet.open_account(player_id)
    response.status_code = 201 if created else 200
    return BalanceResponse(player_id=player_id, balance=account.balance, currency=account.currency)


@players.post("/deposit", response_model=TxResponse, responses=PLAYER_ERRORS)
async def deposit(
    player_id: PlayerPath, key: IdempotencyKey, body: PaymentRequest, response: Response, ctx: Ctx
) -> TxResponse:
    """Credit a deposit (for the payments service), idempotent by Idempotency-Key."""
    request = TxRequest(TxKind.DEPOSIT, PAYMENTS, key, player_id, body.amount)
    return await ctx.transact("deposit", request, response)


@players.post("/withdraw", response_model=TxResponse, responses=PLAYER_ERRORS)
async def withdraw(
    player_id: PlayerPath, key: IdempotencyKey, body: PaymentRequest, response: Response, ctx: Ctx
) -> TxResponse:
    """Debit a withdrawal, idempotent by Idempotency-Key; refused if funds are short."""
    request = TxRequest(TxKind.WITHDRAWAL, PAYMENTS, key, player_id, body.amount)
    return await ctx.transact("withdrawal", request, response)
