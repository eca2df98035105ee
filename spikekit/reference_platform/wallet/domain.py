"""The wallet's money rules: plain data and pure functions, no I/O.

Amounts are integers in minor units (cents). One request touches one account.
:func:`decide` takes what the unit of work loaded under the account's lock (the
account, the record of this transaction id if any, the record of the bet a
rollback names, the state of the round) and returns a :class:`Decision`: the
answer for the caller and the rows to write.

Rules:

- idempotency: a transaction is identified by ``(source, tx_id)`` (source = the
  game provider, or ``payments``); a repeat returns the stored answer, a repeat
  with another payload is a :class:`TransactionMismatch`;
- a bet larger than the balance is refused with ``INSUFFICIENT_FUNDS`` (a
  business answer, stored like any other so that a retry gets the same answer);
- a rollback of a bet not seen yet leaves a tombstone under the bet's id, so the
  late bet is refused with ``TX_ROLLED_BACK``;
- a win for a round whose bets were all rolled back is refused
  (``ROUND_ROLLED_BACK``); a rollback after the round's win is refused
  (``ROUND_SETTLED``);
- bets, deposits and withdrawals move at least 1 minor unit; a win may be 0
  (it settles a lost round).

Errors (the wallet's part of :mod:`spikekit.errors`)::

    SpikekitError
    └── WalletError
        ├── InvalidAmount          an amount that is not a positive integer
        ├── UnknownPlayer          no account for this player
        └── TransactionMismatch    a known transaction id with another payload
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from spikekit.errors import SpikekitError

PAYMENTS = "payments"  # the source of deposits and withdrawals
MAX_AMOUNT = 10**12


class WalletError(SpikekitError):
    """A request the wallet cannot process as asked."""


class InvalidAmount(WalletError):
    def __init__(self, amount: object, minimum: int) -> None:
        self.amount = amount
        super().__init__(
            f"amount must be an integer between {minimum} and {MAX_AMOUNT}: {amount!r}"
        )


class UnknownPlayer(WalletError):
    def __init__(self, player_id: str) -> None:
        self.player_id = player_id
        super().__init__(f"unknown player {player_id!r}")


class TransactionMismatch(WalletError):
    def __init__(self, source: str, tx_id: str, reason: str) -> None:
        self.source = source
        self.tx_id = tx_id
        super().__init__(f"transaction {source}:{tx_id} {reason}")


class TxKind(StrEnum):
    BET = "bet"
    WIN = "win"
    ROLLBACK = "rollback"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class TxStatus(StrEnum):
    APPLIED = "applied"  # the money moved (or, for a zero win, the round closed)
    REFUSED = "refused"  # a business refusal, stored so that retries get it again
    ROLLED_BACK = "rolled_back"  # an applied bet, refunded by a rollback
    CANCELLED = "cancelled"  # tombstone: a rollback came before this bet


class Code(StrEnum):
    OK = "OK"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    TX_ROLLED_BACK = "TX_ROLLED_BACK"
    ROUND_ROLLED_BACK = "ROUND_ROLLED_BACK"
    ROUND_SETTLED = "ROUND_SETTLED"
    NOT_ROLLBACKABLE = "NOT_ROLLBACKABLE"


DEBITS = (TxKind.BET, TxKind.WITHDRAWAL)


@dataclass(frozen=True)
class TxRequest:
    """One money request; ``original_tx_id`` names the bet a rollback cancels."""

    kind: TxKind
    source: str
    tx_id: str
    player_id: str
    amount: int = 0
    round_id: str | None = None
    original_tx_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind is TxKind.ROLLBACK:
            if self.original_tx_id is None:
                raise WalletError("a rollback needs the transaction id of the bet it cancels")
            return
        minimum = 0 if self.kind is TxKind.WIN else 1
        valid = isinstance(self.amount, int) and not isinstance(self.amount, bool)
        if not valid or not minimum <= self.amount <= MAX_AMOUNT:
            raise InvalidAmount(self.amount, minimum)


@dataclass(frozen=True)
class Account:
    player_id: str
    balance: int
    currency: str = "EUR"


@dataclass(frozen=True)
class TxRecord:
    """A stored transaction and the answer it got."""

    source: str
    tx_id: str
    kind: TxKind
    player_id: str
    amount: int
    status: TxStatus
    code: Code
    balance_after: int
    round_id: str | None = None
    original_tx_id: str | None = None

    def same_payload(self, request: TxRequest) -> bool:
        return (
            self.kind is request.kind
            and self.player_id == request.player_id
            and self.round_id == request.round_id
            and self.original_tx_id == request.original_tx_id
            and (request.kind is TxKind.ROLLBACK or self.amount == request.amount)
        )


@dataclass(frozen=True)
class RoundState:
    """What a round already holds, besides the transaction being decided."""

    open_bets: int = 0  # applied bets not rolled back
    rolled_back_bets: int = 0
    wins: int = 0  # applied wins


@dataclass(frozen=True)
class Snapshot:
    """What the unit of work loaded for one request (under the account lock when serialized)."""

    account: Account
    existing: TxRecord | None = None
    original: TxRecord | None = None
    round: RoundState = RoundState()


@dataclass(frozen=True)
class Answer:
    """What the caller is told; identical for the first request and every repeat."""

    code: Code
    source: str
    tx_id: str
    player_id: str
    amount: int
    balance: int
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.code is Code.OK


@dataclass(frozen=True)
class LedgerEntry:
    """A balance movement; ``amount`` is signed (negative for bets and withdrawals)."""

    source: str
    tx_id: str
    kind: TxKind
    player_id: str
    amount: int
    balance_after: int
    round_id: str | None = None


@dataclass(frozen=True)
class Decision:
    answer: Answer
    record: TxRecord | None = None  # new record (None: nothing stored, e.g. a replay)
    entry: LedgerEntry | None = None  # money moved
    refunded: TxRecord | None = None  # the bet a rollback refunds, to mark rolled back
    tombstone: TxRecord | None = None  # a rollback arrived before its bet

    @property
    def writes(self) -> bool:
        return self.record is not None


def answer_of(record: TxRecord, *, replayed: bool = False) -> Answer:
    return Answer(
        code=record.code,
        source=record.source,
        tx_id=record.tx_id,
        player_id=record.player_id,
        amount=record.amount if record.status is not TxStatus.REFUSED else 0,
        balance=record.balance_after,
        replayed=replayed,
    )


def decide(request: TxRequest, snapshot: Snapshot) -> Decision:
    """Apply the money rules to one request; pure."""
    existing = snapshot.existing
    if existing is not None:
        return _repeat(request, existing)
    if request.kind is TxKind.ROLLBACK:
        return _rollback(request, snapshot)
    if (
        request.kind is TxKind.WIN
        and snapshot.round.rolled_back_bets
        and not snapshot.round.open_bets
    ):
        return _refuse(request, snapshot.account, Code.ROUND_ROLLED_BACK)
    balance = snapshot.account.balance
    if request.kind in DEBITS and request.amount > balance:
        return _refuse(request, snapshot.account, Code.INSUFFICIENT_FUNDS)
    delta = -request.amount if request.kind in DEBITS else request.amount
    return _apply(request, balance + delta, delta)


def _repeat(request: TxRequest, existing: TxRecord) -> Decision:
    if existing.status is TxStatus.CANCELLED:
        if existing.player_id != request.player_id or request.kind is not TxKind.BET:
            raise TransactionMismatch(request.source, request.tx_id, "was rolled back for another")
        refused = Answer(  # fixed when the tombstone was written: every retry gets it
            Code.TX_ROLLED_BACK,
            request.source,
            request.tx_id,
            request.player_id,
            0,
            existing.balance_after,
        )
        return Decision(refused)
    if not existing.same_payload(request):
        raise TransactionMismatch(
            request.source, request.tx_id, "is known with another kind, player, round or amount"
        )
    return Decision(answer_of(existing, replayed=True))


def _record(
    request: TxRequest, status: TxStatus, code: Code, amount: int, balance: int
) -> TxRecord:
    return TxRecord(
        source=request.source,
        tx_id=request.tx_id,
        kind=request.kind,
        player_id=request.player_id,
        amount=amount,
        status=status,
        code=code,
        balance_after=balance,
        round_id=request.round_id,
        original_tx_id=request.original_tx_id,
    )


def _refuse(request: TxRequest, account: Account, code: Code) -> Decision:
    record = _record(request, TxStatus.REFUSED, code, request.amount, account.balance)
    return Decision(answer_of(record), record=record)


def _apply(
    request: TxRequest,
    balance: int,
    delta: int,
    *,
    refunded: TxRecord | None = None,
    tombstone: TxRecord | None = None,
) -> Decision:
    amount = abs(delta) if request.kind is TxKind.ROLLBACK else request.amount
    record = _record(request, TxStatus.APPLIED, Code.OK, amount, balance)
    entry = None
    if delta:
        entry = LedgerEntry(
            request.source,
            request.tx_id,
            request.kind,
            request.player_id,
            delta,
            balance,
            request.round_id,
        )
    return Decision(
        answer_of(record), record=record, entry=entry, refunded=refunded, tombstone=tombstone
    )


def _rollback(request: TxRequest, snapshot: Snapshot) -> Decision:
    account, original = snapshot.account, snapshot.original
    assert request.original_tx_id is not None
    if original is None:
        tombstone = TxRecord(
            source=request.source,
            tx_id=request.original_tx_id,
            kind=TxKind.BET,
            player_id=request.player_id,
            amount=0,
            status=TxStatus.CANCELLED,
            code=Code.TX_ROLLED_BACK,
            balance_after=account.balance,
            round_id=request.round_id,
        )
        return _apply(request, account.balance, 0, tombstone=tombstone)
    if original.player_id != request.player_id or original.round_id != request.round_id:
        raise TransactionMismatch(
            request.source, request.original_tx_id, "belongs to another player or round"
        )
    if original.kind is not TxKind.BET:
        return _refuse(request, account, Code.NOT_ROLLBACKABLE)
    if original.status is not TxStatus.APPLIED:  # refused, already rolled back or cancelled
        return _apply(request, account.balance, 0)
    if snapshot.round.wins:
        return _refuse(request, account, Code.ROUND_SETTLED)
    refunded = replace(original, status=TxStatus.ROLLED_BACK)
    return _apply(request, account.balance + original.amount, original.amount, refunded=refunded)
