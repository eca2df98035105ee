"""The payments API's request and response bodies; their constraints are the contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from spikekit.reference_platform.payments.domain import MAX_AMOUNT, Payment

ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"  # the wallet's id pattern

PlayerId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=ID_PATTERN, examples=["p000001"])
]
IdempotencyKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="chosen by the caller; a repeat for the same player returns the same payment",
        examples=["dep-7f3a9c"],
    ),
]
Amount = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_AMOUNT,
        description="minor units (cents), a positive JSON integer",
        examples=[2500],
    ),
]
PaymentId = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
Status = Literal["pending", "completed", "failed"]


class PaymentRequest(BaseModel):
    """A deposit or withdrawal asked for by the gateway on the player's behalf."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    player_id: PlayerId
    amount: Amount
    idempotency_key: IdempotencyKey


class _View(BaseModel):
    player_id: str
    status: Status = Field(description="pending until processed, then completed or failed")
    amount: int = Field(description="minor units")
    reason: str | None = Field(
        default=None,
        description="why it failed: PROVIDER_DECLINED, INSUFFICIENT_FUNDS, UNKNOWN_PLAYER, ...",
        examples=["INSUFFICIENT_FUNDS"],
    )
    balance: int | None = Field(
        default=None, description="the wallet balance right after the money moved, when it did"
    )
    created_at: float = Field(description="acceptance time, Unix seconds")
    updated_at: float = Field(description="last status change, Unix seconds")


class DepositView(_View):
    deposit_id: str


class WithdrawalView(_View):
    withdrawal_id: str


def _fields(payment: Payment) -> dict[str, object]:
    return {
        "player_id": payment.player_id,
        "status": payment.stage.public,
        "amount": payment.amount,
        "reason": payment.reason,
        "balance": payment.balance,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
    }


def deposit_view(payment: Payment) -> DepositView:
    return DepositView(deposit_id=payment.payment_id, **_fields(payment))


def withdrawal_view(payment: Payment) -> WithdrawalView:
    return WithdrawalView(withdrawal_id=payment.payment_id, **_fields(payment))
