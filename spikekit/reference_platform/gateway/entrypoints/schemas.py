"""The players' API bodies (docs/gateway-api.md); their constraints are the contract.

Amounts and bets are JSON integers in minor units: ``2.5``, ``1.0``, ``"5"``,
``true``, zero and negatives are refused with 422 before any dependency is asked.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from spikekit.reference_platform.auth.domain import (
    MAX_PASSWORD_CHARS,
    MIN_NEW_PASSWORD_CHARS,
    USERNAME_PATTERN,
)
from spikekit.reference_platform.gateway.domain import ID_PATTERN
from spikekit.reference_platform.gateway.service_layer.ports import PaymentStatus as Status

MAX_AMOUNT = 10**12  # the wallet's limit, minor units
Amount = Annotated[
    int,
    Field(strict=True, ge=1, le=MAX_AMOUNT, description="minor units, a positive JSON integer"),
]
Key = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="chosen by the player's client; a repeat returns the same payment",
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegisterRequest(_Body):
    username: str = Field(pattern=USERNAME_PATTERN, examples=["alice"])
    password: str = Field(min_length=MIN_NEW_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)


class LoginRequest(_Body):
    username: str = Field(min_length=1, max_length=64, examples=["player000001"])
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS, examples=["spike-1"])


class RoundRequest(_Body):
    session_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
    bet: Amount


class PaymentRequest(_Body):
    amount: Amount
    idempotency_key: Key


class RegisterAnswer(BaseModel):
    player_id: str


class LoginAnswer(BaseModel):
    token: str
    player_id: str
    expires_in: int = Field(description="seconds the session lives")


class MeAnswer(BaseModel):
    player_id: str
    username: str | None = Field(description="null when not known to this platform any more")
    balance: int


class BalanceAnswer(BaseModel):
    player_id: str
    balance: int


class GameView(BaseModel):
    id: str
    name: str
    family: str
    providers: list[str]
    min_bet: int
    max_bet: int


class LobbyAnswer(BaseModel):
    games: list[GameView]


class LaunchAnswer(BaseModel):
    session_id: str
    game: str
    provider: str


class RoundAnswer(BaseModel):
    round_id: str
    provider: str
    game: str
    bet: int
    win: int
    balance: int = Field(description="the balance after the round")
    bet_tx_id: str
    win_tx_id: str
    settled: bool = Field(description="false: the win is still being credited")
    failover: bool = Field(description="true: another studio than the session's played it")


class DepositAnswer(BaseModel):
    deposit_id: str
    status: Status
    amount: int


class WithdrawalAnswer(BaseModel):
    withdrawal_id: str
    status: Status
    amount: int


class ErrorAnswer(BaseModel):
    error: str = Field(examples=["insufficient_funds"])
    detail: str
