"""Request and response bodies of a provider's game API (what the router calls)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from spikekit.reference_platform.wallet.entrypoints.models import ID_PATTERN

PlayerId = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
GameId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
SessionId = Annotated[str, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]
Bet = Annotated[int, Field(strict=True, ge=1, le=10**12, description="minor units, a JSON integer")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LaunchRequest(_Body):
    player_id: PlayerId
    game: GameId


class LaunchResponse(BaseModel):
    session_id: str = Field(examples=["aurora.3f9c0e1d2b4a59687a6b5c4d"])
    game: str
    provider: str


class RoundRequest(_Body):
    player_id: PlayerId
    game: GameId
    bet: Bet
    session_id: SessionId | None = None


class RoundResponse(BaseModel):
    round_id: str
    provider: str
    game: str
    bet: int = Field(description="minor units debited")
    win: int = Field(description="minor units credited (0: a lost round)")
    balance: int = Field(description="the balance after the round, minor units")
    bet_tx_id: str = Field(description="the wallet transaction id of the bet")
    win_tx_id: str = Field(description="the wallet transaction id of the win")
    settled: bool = Field(
        default=True, description="false: the win is being credited in the background"
    )


class GameInfo(BaseModel):
    id: str
    name: str
    family: str
    providers: list[str]
    min_bet: int
    max_bet: int


ProviderPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
FaultIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


class ProviderEntry(BaseModel):
    id: str
    rounds: int = Field(description="rounds served since start")
    in_flight: int


class ProvidersListing(BaseModel):
    providers: list[ProviderEntry]


class FaultSetAnswer(BaseModel):
    fault_id: str
    active: bool


class FaultsListing(BaseModel):
    faults: list[dict[str, object]] = Field(
        description="provider, fault_id, the fault's body and expires_at (unix s or null)"
    )
