"""The wallet API's request and response bodies; their constraints are the contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from spikekit.reference_platform.wallet.domain import MAX_AMOUNT, Answer, Code, TxKind, TxRequest
from spikekit.reference_platform.wallet.settle import BetAndWin, PairAnswer

ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"

PlayerId = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=ID_PATTERN, examples=["p000001"]),
]
TxId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="the provider's transaction id; with the provider, the idempotency key",
        examples=["aurora-tx-81723"],
    ),
]
RoundId = Annotated[
    str,
    Field(min_length=1, max_length=128, pattern=ID_PATTERN, examples=["aurora-round-5512"]),
]
Amount = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_AMOUNT,
        description="minor units (cents), a positive JSON integer",
        examples=[250],
    ),
]
WinAmount = Annotated[
    int,
    Field(
        strict=True,
        ge=0,
        le=MAX_AMOUNT,
        description="minor units; 0 settles a lost round",
        examples=[480],
    ),
]
GameId = Annotated[str | None, Field(default=None, max_length=64, pattern=ID_PATTERN)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BalanceRequest(_Body):
    player_id: PlayerId


class DebitRequest(_Body):
    """A bet: take ``amount`` from the player for round ``round_id``."""

    player_id: PlayerId
    tx_id: TxId
    round_id: RoundId
    amount: Amount
    game_id: GameId = None

    def tx(self, provider: str) -> TxRequest:
        """The wallet's request for this body from ``provider``."""
        return TxRequest(
            TxKind.BET, provider, self.tx_id, self.player_id, self.amount, self.round_id
        )


class CreditRequest(_Body):
    """A win: pay ``amount`` (possibly 0) to the player for round ``round_id``."""

    player_id: PlayerId
    tx_id: TxId
    round_id: RoundId
    amount: WinAmount
    game_id: GameId = None

    def tx(self, provider: str) -> TxRequest:
        return TxRequest(
            TxKind.WIN, provider, self.tx_id, self.player_id, self.amount, self.round_id
        )


class RollbackRequest(_Body):
    """Cancel the bet ``original_tx_id``; ``tx_id`` is the rollback's own id."""

    player_id: PlayerId
    tx_id: TxId
    round_id: RoundId
    original_tx_id: TxId

    def tx(self, provider: str) -> TxRequest:
        return TxRequest(
            TxKind.ROLLBACK,
            provider,
            self.tx_id,
            self.player_id,
            round_id=self.round_id,
            original_tx_id=self.original_tx_id,
        )


class BetSettleRequest(_Body):
    """An instant round whose outcome is known: bet ``bet`` and pay ``win`` in one call.

    Two transactions, each idempotent under its own id (``bet_tx_id``, ``win_tx_id``);
    the win is applied only if the bet is.
    """

    player_id: PlayerId
    round_id: RoundId
    bet_tx_id: TxId
    bet: Amount
    win_tx_id: TxId
    win: WinAmount
    game_id: GameId = None

    @model_validator(mode="after")
    def _two_ids(self) -> BetSettleRequest:
        if self.bet_tx_id == self.win_tx_id:
            raise ValueError("bet_tx_id and win_tx_id must differ")
        return self

    def pair(self, provider: str) -> BetAndWin:
        """The wallet's pair of requests for this body from ``provider``."""
        return BetAndWin(
            TxRequest(
                TxKind.BET, provider, self.bet_tx_id, self.player_id, self.bet, self.round_id
            ),
            TxRequest(
                TxKind.WIN, provider, self.win_tx_id, self.player_id, self.win, self.round_id
            ),
        )


class PaymentRequest(_Body):
    """A deposit or withdrawal applied by the payments service."""

    amount: Amount


class BalanceResponse(BaseModel):
    player_id: str
    balance: int = Field(description="minor units")
    currency: str = Field(examples=["EUR"])


class TxResponse(BaseModel):
    """The wallet's answer; a repeat of the same transaction gets the same body."""

    status: Literal["ok", "refused"]
    code: Code = Field(description="OK, or why the wallet refused (a business answer)")
    provider: str = Field(description="the provider, or 'payments'")
    tx_id: str
    player_id: str
    amount: int = Field(description="minor units moved (0 when refused or nothing to refund)")
    balance: int = Field(description="the balance after this transaction, minor units")
    currency: str

    @classmethod
    def of(cls, answer: Answer, currency: str) -> TxResponse:
        return cls(
            status="ok" if answer.ok else "refused",
            code=answer.code,
            provider=answer.source,
            tx_id=answer.tx_id,
            player_id=answer.player_id,
            amount=answer.amount,
            balance=answer.balance,
            currency=currency,
        )


class BetSettleResponse(BaseModel):
    """The answer to a bet and settle; a repeat of the same pair gets the same body."""

    status: Literal["ok", "refused"]
    code: Code = Field(description="OK, or why the bet (or the win) was refused")
    provider: str
    player_id: str
    balance: int = Field(description="the balance after the round, minor units")
    currency: str
    bet: TxResponse
    win: TxResponse | None = Field(description="null when the bet was refused: no win applied")

    @classmethod
    def of(cls, answer: PairAnswer, currency: str) -> BetSettleResponse:
        last = answer.last
        return cls(
            status="ok" if answer.ok else "refused",
            code=last.code,
            provider=last.source,
            player_id=last.player_id,
            balance=last.balance,
            currency=currency,
            bet=TxResponse.of(answer.bet, currency),
            win=None if answer.win is None else TxResponse.of(answer.win, currency),
        )
