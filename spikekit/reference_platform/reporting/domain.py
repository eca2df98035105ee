"""Reporting's arithmetic: wallet events into per-minute aggregates. No I/O.

A wallet event (published by the wallet's outbox, see
``wallet/adapters/outbox.py``) is one ledger entry: ``event_id``, ``type``
(bet, win, rollback, deposit, withdrawal), ``player_id``, a signed ``amount``
in minor units (negative for bets and withdrawals) and ``ts`` (Unix seconds).
Per UTC minute of ``ts`` the aggregates are:

- ``bets`` / ``bet_count``: stakes taken (positive), ``wins`` / ``win_count``:
  winnings paid, ``refunds``: bets given back by rollbacks;
- ``ggr`` (gross gaming revenue) = bets - wins - refunds; with no rollbacks,
  bets - wins;
- ``deposits`` and ``withdrawals`` (positive sums);
- ``active_players``: distinct players who bet in that minute.

The outbox publishes at least once, so events are deduplicated by
``event_id`` (the store remembers the ids it has counted); :func:`summarize`
counts each id of a batch once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from spikekit.errors import SpikekitError


class ReportingError(SpikekitError):
    """Reporting could not read or store what it was given."""


class BadEvent(ReportingError):
    def __init__(self, event_id: str, reason: str) -> None:
        self.event_id = event_id
        super().__init__(f"wallet event {event_id}: {reason}")


KINDS = ("bet", "win", "rollback", "deposit", "withdrawal")


@dataclass(frozen=True)
class WalletEvent:
    event_id: str
    kind: str
    player_id: str
    amount: int  # signed, minor units
    ts: float

    @classmethod
    def parse(cls, entry_fields: Mapping[str, str]) -> WalletEvent:
        """One stream entry's fields (all strings); :class:`BadEvent` when unusable."""
        event_id = entry_fields.get("event_id", "")
        try:
            event = cls(
                event_id=event_id,
                kind=entry_fields["type"],
                player_id=entry_fields["player_id"],
                amount=int(entry_fields["amount"]),
                ts=float(entry_fields["ts"]),
            )
        except (KeyError, ValueError) as error:
            raise BadEvent(event_id or "?", f"unreadable ({error!r})") from error
        if not event.event_id or event.kind not in KINDS or not event.player_id:
            raise BadEvent(event_id or "?", f"missing id, player or known type ({event.kind!r})")
        return event

    @property
    def minute(self) -> datetime:
        """The UTC minute the event belongs to."""
        return datetime.fromtimestamp(int(self.ts // 60) * 60, tz=UTC)


@dataclass
class MinuteTotals:
    """Sums for one minute; adding two is the upsert's arithmetic."""

    bets: int = 0
    bet_count: int = 0
    wins: int = 0
    win_count: int = 0
    refunds: int = 0
    deposits: int = 0
    withdrawals: int = 0
    active_players: int = 0

    @property
    def ggr(self) -> int:
        return self.bets - self.wins - self.refunds

    def add(self, event: WalletEvent) -> None:
        if event.kind == "bet":
            self.bets += -event.amount
            self.bet_count += 1
        elif event.kind == "win":
            self.wins += event.amount
            self.win_count += 1
        elif event.kind == "rollback":
            self.refunds += event.amount
        elif event.kind == "deposit":
            self.deposits += event.amount
        else:
            self.withdrawals += -event.amount

    def __add__(self, other: MinuteTotals) -> MinuteTotals:
        return MinuteTotals(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass
class Summary:
    """What one batch adds: totals per minute, and who bet in each minute."""

    minutes: dict[datetime, MinuteTotals] = field(default_factory=dict)
    players: set[tuple[datetime, str]] = field(default_factory=set)

    def count_new_players(self, new: Iterable[datetime]) -> None:
        """Add the store's answer: one minute per player it had not seen in that minute."""
        for minute in new:
            self.minutes[minute].active_players += 1


def summarize(events: Iterable[WalletEvent]) -> Summary:
    """Per-minute totals of ``events``, each ``event_id`` counted once.

    ``active_players`` is left at 0: only the store knows which players a minute
    already had; it adds the players of ``Summary.players`` that are new to it.
    """
    summary = Summary()
    seen: set[str] = set()
    for event in events:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        minute = event.minute
        summary.minutes.setdefault(minute, MinuteTotals()).add(event)
        if event.kind == "bet":
            summary.players.add((minute, event.player_id))
    return summary
