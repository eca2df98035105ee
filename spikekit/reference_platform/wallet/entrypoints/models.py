"""The wallet API's request and response bodies; their constraints are the contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from spikekit.reference_platform.wallet.domain import MAX_AMOUNT, Answer, Code, TxKind, TxRequest

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
