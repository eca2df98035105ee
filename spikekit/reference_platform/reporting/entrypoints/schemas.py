"""The reporting read API's response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from spikekit.reference_platform.reporting.domain import MinuteTotals


class Aggregate(BaseModel):
    """One minute's sums; amounts in minor units."""

    minute: datetime = Field(description="the minute's start, UTC")
    bets: int = Field(description="stakes taken")
    bet_count: int
    wins: int = Field(description="winnings paid")
    win_count: int
    refunds: int = Field(description="bets given back by rollbacks")
    ggr: int = Field(description="gross gaming revenue: bets - wins - refunds")
    deposits: int
    withdrawals: int
    active_players: int = Field(description="distinct players who bet in the minute")

    @classmethod
    def of(cls, minute: datetime, totals: MinuteTotals) -> Aggregate:
        return cls(
            minute=minute,
            bets=totals.bets,
            bet_count=totals.bet_count,
            wins=totals.wins,
            win_count=totals.win_count,
            refunds=totals.refunds,
            ggr=totals.ggr,
            deposits=totals.deposits,
            withdrawals=totals.withdrawals,
            active_players=totals.active_players,
        )


class LagView(BaseModel):
    entries: int = Field(description="events not processed yet (pending + undelivered, capped)")
    pending: int
    seconds: float = Field(description="age of the oldest event not processed yet")


class Aggregates(BaseModel):
    minutes: list[Aggregate] = Field(description="oldest first; minutes without events are absent")
    lag: LagView | None = Field(description="None when Redis did not answer")
