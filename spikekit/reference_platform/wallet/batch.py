"""Deciding a batch of money requests in one go: plain data and pure functions, no I/O.

The batched unit of work locks every account of a batch, loads the records the
batch needs (:class:`BatchSnapshot`), and :func:`decide_batch` runs
:func:`~.domain.decide` for each request **in arrival order** on an in-memory
book that every decision updates, so that later requests see the effects of
earlier ones: two bets on one account see each other's balance, a repeated
transaction id gets the first one's stored answer (a replay), a rollback sees a
bet placed earlier in the batch. The result is one outcome per request (an
:class:`~.domain.Answer`, or the :class:`~.domain.WalletError` that request
alone gets) and the batch's writes (:class:`BatchWrites`), final states only.

A :class:`~.settle.BetAndWin` is one item of a batch: its bet and its win are
decided together (:func:`~.settle.decide_pair`), and the book takes both
decisions or, when either half fails, neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from spikekit.reference_platform.wallet.domain import (
    Account,
    Answer,
    Decision,
    LedgerEntry,
    RoundState,
    Snapshot,
    TxKind,
    TxRecord,
    TxRequest,
    TxStatus,
    UnknownPlayer,
    WalletError,
    decide,
)
from spikekit.reference_platform.wallet.settle import BetAndWin, PairAnswer, decide_pair

TxKey = tuple[str, str]  # (source, tx_id)
RoundKey = tuple[str, str, str]  # (source, round_id, player_id)
Outcome = Answer | PairAnswer | WalletError
Item = TxRequest | BetAndWin  # what one caller submits
ROUND_KINDS = (TxKind.WIN, TxKind.ROLLBACK)  # the requests whose rules look at the round


def tx_keys(request: TxRequest) -> list[TxKey]:
    """The transaction records ``request`` needs: its own id and the bet it names."""
    keys = [(request.source, request.tx_id)]
    if request.original_tx_id is not None:
        keys.append((request.source, request.original_tx_id))
    return keys


def requests_of(items: Iterable[Item]) -> list[TxRequest]:
    """The money requests of ``items``, a pair's bet then its win (what a batch loads)."""
    found: list[TxRequest] = []
    for item in items:
        if isinstance(item, BetAndWin):
            found.extend(item.requests)
        else:
            found.append(item)
    return found


def round_key(request: TxRequest) -> RoundKey | None:
    """The round whose state ``request``'s rules depend on, if any."""
    if request.kind in ROUND_KINDS and request.round_id is not None:
        return (request.source, request.round_id, request.player_id)
    return None


def round_of(record: TxRecord) -> RoundKey | None:
    if record.round_id is None:
        return None
    return (record.source, record.round_id, record.player_id)


def round_state(records: Iterable[TxRecord]) -> RoundState:
    """What a round's records add up to (the same counts as the unbatched round query)."""
    open_bets = rolled_back = wins = 0
    for record in records:
        if record.kind is TxKind.BET:
            if record.status is TxStatus.APPLIED:
                open_bets += 1
            elif record.status in (TxStatus.ROLLED_BACK, TxStatus.CANCELLED):
                rolled_back += 1
        elif record.kind is TxKind.WIN and record.status is TxStatus.APPLIED:
            wins += 1
    return RoundState(open_bets, rolled_back, wins)


@dataclass(frozen=True)
class BatchSnapshot:
    """What the unit of work loaded under the locks of every account of the batch.

    ``records``: the stored records of every id in :func:`tx_keys` and of every round
    in :func:`round_key`; ``rounds``: those round keys (each round's records are all
    in ``records``). An account missing from ``accounts`` does not exist.
    """

    accounts: Mapping[str, Account]
    records: Mapping[TxKey, TxRecord]
    rounds: frozenset[RoundKey] = frozenset()


@dataclass(frozen=True)
class BatchWrites:
    """Everything a batch stores, in one go."""

    inserts: Sequence[TxRecord] = ()  # new records and tombstones, in their final state
    rolled_back: Sequence[TxRecord] = ()  # stored bets that a rollback refunded
    entries: Sequence[LedgerEntry] = ()  # balance movements, in arrival order
    balances: Mapping[str, int] = field(default_factory=dict)  # final balance per moved account

    def __bool__(self) -> bool:
        return bool(self.inserts or self.rolled_back)


class _Book:
    """The snapshot plus the effects of the decisions taken so far in the batch."""

    def __init__(self, snapshot: BatchSnapshot) -> None:
        self.accounts = dict(snapshot.accounts)
        self.records = dict(snapshot.records)
        self.rounds: dict[RoundKey, dict[TxKey, TxRecord]] = {key: {} for key in snapshot.rounds}
        for key, record in self.records.items():
            found = round_of(record)
            if found in self.rounds:
                self.rounds[found][key] = record
        self.new: dict[TxKey, TxRecord] = {}
        self.refunded: dict[TxKey, TxRecord] = {}
        self.entries: list[LedgerEntry] = []
        self.balances: dict[str, int] = {}

    def snapshot(self, request: TxRequest, account: Account) -> Snapshot:
        source = request.source
        original = None
        if request.original_tx_id is not None:
            original = self.records.get((source, request.original_tx_id))
        key = round_key(request)
        state = round_state(self.rounds[key].values()) if key in self.rounds else RoundState()
        return Snapshot(account, self.records.get((source, request.tx_id)), original, state)

    def apply(self, decision: Decision) -> None:
        for record in (decision.record, decision.tombstone):
            if record is not None:
                self._put(record)
                self.new[(record.source, record.tx_id)] = record
        if decision.refunded is not None:
            refunded = decision.refunded
            key = (refunded.source, refunded.tx_id)
            self._put(refunded)
            if key in self.new:
                self.new[key] = refunded  # placed in this batch: inserted already rolled back
            else:
                self.refunded[key] = refunded
        if decision.entry is not None:
            entry = decision.entry
            self.entries.append(entry)
            self.balances[entry.player_id] = entry.balance_after
            account = self.accounts[entry.player_id]
            self.accounts[entry.player_id] = Account(
                account.player_id, entry.balance_after, account.currency
            )

    def _put(self, record: TxRecord) -> None:
        key = (record.source, record.tx_id)
        self.records[key] = record
        found = round_of(record)
        if found in self.rounds:
            self.rounds[found][key] = record

    def writes(self) -> BatchWrites:
        return BatchWrites(
            inserts=list(self.new.values()),
            rolled_back=list(self.refunded.values()),
            entries=self.entries,
            balances=self.balances,
        )


def decide_batch(
    items: Sequence[Item], snapshot: BatchSnapshot
) -> tuple[list[Outcome], BatchWrites]:
    """Each item's outcome, decided in arrival order, and the batch's writes; pure."""
    book = _Book(snapshot)
    outcomes: list[Outcome] = []
    for item in items:
        request = item.bet if isinstance(item, BetAndWin) else item
        account = book.accounts.get(request.player_id)
        if account is None:
            outcomes.append(UnknownPlayer(request.player_id))
            continue
        outcome: Outcome
        try:
            if isinstance(item, BetAndWin):
                pair = decide_pair(
                    item, book.snapshot(item.bet, account), book.snapshot(item.win, account)
                )
                decisions, outcome = pair.decisions, pair.answer
            else:
                decision = decide(item, book.snapshot(item, account))
                decisions, outcome = (decision,), decision.answer
        except WalletError as error:  # this item's own error, e.g. a mismatch
            outcomes.append(error)
            continue
        for decision in decisions:
            book.apply(decision)
        outcomes.append(outcome)
    return outcomes, book.writes()
