"""The payment rules: stages, the next step of a payment, and its transitions. No I/O.

A deposit is charged at the payment provider, then credited to the wallet. A
withdrawal is debited from the wallet first (so the money cannot be spent
twice), then paid out; a payout the provider declines is refunded to the wallet.
Every wallet call carries an idempotency key derived from the payment id, so a
step repeated after a crash moves no money twice::

    deposit     pending ─charge ok─▶ authorized ─credit ok─▶ completed
                   └─declined─▶ failed        └─refused─▶ failed
    withdrawal  pending ─debit ok─▶ debited ─payout ok─▶ completed
                   └─refused─▶ failed    └─declined─▶ refunding ─refund ok─▶ failed

:func:`advance` is the only way a payment changes stage; a repeated or late
outcome for a stage already left is an :class:`InvalidTransition`, which the
store's compare-and-set turns into "someone else moved it, reload".

Errors (the payments' part of :mod:`spikekit.errors`)::

    SpikekitError
    └── PaymentError
        ├── InvalidTransition     an outcome that does not apply to the payment's stage
        ├── IdempotencyMismatch   a known idempotency key with another payload
        └── Unavailable           Redis or the wallet did not answer: retry later
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from spikekit.errors import SpikekitError

MAX_AMOUNT = 10**12  # the wallet's limit, minor units
REFUND_SUFFIX = ".refund"


class PaymentError(SpikekitError):
    """A payment request or transition that cannot be applied as asked."""


class InvalidTransition(PaymentError):
    def __init__(self, payment_id: str, stage: str, outcome: str) -> None:
        self.payment_id = payment_id
        super().__init__(f"payment {payment_id}: {outcome} does not apply at stage {stage}")


class IdempotencyMismatch(PaymentError):
    def __init__(self, key: str, payment_id: str) -> None:
        self.key = key
        self.payment_id = payment_id
        super().__init__(
            f"idempotency key {key!r} already names payment {payment_id} with another payload"
        )


class Unavailable(PaymentError):
    """A dependency failed or timed out; nothing was decided, the step can be retried."""

    def __init__(self, dependency: str, reason: str) -> None:
        self.dependency = dependency
        super().__init__(f"{dependency} unavailable: {reason}")


class Kind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class Stage(StrEnum):
    PENDING = "pending"  # accepted, queued
    AUTHORIZED = "authorized"  # deposit: the provider charged the player
    DEBITED = "debited"  # withdrawal: the wallet took the money, payout next
    REFUNDING = "refunding"  # withdrawal: payout declined, the wallet gives it back
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (Stage.COMPLETED, Stage.FAILED)

    @property
    def public(self) -> str:
        """What the API shows: pending, completed or failed."""
        return self.value if self.terminal else "pending"


class Step(StrEnum):
    CHARGE = "charge"  # provider: take the deposit from the player's card
    CREDIT = "credit"  # wallet: deposit, key = payment id
    DEBIT = "debit"  # wallet: withdraw, key = payment id
    PAYOUT = "payout"  # provider: send the withdrawal to the player
    REFUND = "refund"  # wallet: deposit back, key = payment id + ".refund"


DECLINED = "PROVIDER_DECLINED"


@dataclass(frozen=True)
class Outcome:
    """What a step answered: ``ok``, or a refusal with its ``code``."""

    ok: bool
    code: str = "OK"
    balance: int | None = None  # the wallet's balance after the call, when it was the wallet

    @classmethod
    def refused(cls, code: str) -> Outcome:
        return cls(ok=False, code=code)

    def __str__(self) -> str:
        return "ok" if self.ok else f"refused ({self.code})"


@dataclass(frozen=True)
class Payment:
    """One deposit or withdrawal as stored."""

    payment_id: str
    kind: Kind
    player_id: str
    amount: int
    idempotency_key: str
    stage: Stage = Stage.PENDING
    reason: str | None = None  # why it failed: the provider's or the wallet's code
    created_at: float = 0.0
    updated_at: float = 0.0
    balance: int | None = None  # the wallet balance after the money moved

    def __post_init__(self) -> None:
        valid = isinstance(self.amount, int) and not isinstance(self.amount, bool)
        if not valid or not 1 <= self.amount <= MAX_AMOUNT:
            raise PaymentError(f"amount must be an integer from 1 to {MAX_AMOUNT}: {self.amount!r}")

    def same_request(self, kind: Kind, player_id: str, amount: int) -> bool:
        return (self.kind, self.player_id, self.amount) == (kind, player_id, amount)

    @property
    def wallet_key(self) -> str:
        """The Idempotency-Key of this payment's wallet call at its current step."""
        if self.stage is Stage.REFUNDING:
            return self.payment_id + REFUND_SUFFIX
        return self.payment_id


_STEPS: dict[tuple[Kind, Stage], Step] = {
    (Kind.DEPOSIT, Stage.PENDING): Step.CHARGE,
    (Kind.DEPOSIT, Stage.AUTHORIZED): Step.CREDIT,
    (Kind.WITHDRAWAL, Stage.PENDING): Step.DEBIT,
    (Kind.WITHDRAWAL, Stage.DEBITED): Step.PAYOUT,
    (Kind.WITHDRAWAL, Stage.REFUNDING): Step.REFUND,
}

# (kind, stage, ok?) -> next stage; a refusal also records the reason
_NEXT: dict[tuple[Kind, Stage, bool], Stage] = {
    (Kind.DEPOSIT, Stage.PENDING, True): Stage.AUTHORIZED,
    (Kind.DEPOSIT, Stage.PENDING, False): Stage.FAILED,
    (Kind.DEPOSIT, Stage.AUTHORIZED, True): Stage.COMPLETED,
    (Kind.DEPOSIT, Stage.AUTHORIZED, False): Stage.FAILED,
    (Kind.WITHDRAWAL, Stage.PENDING, True): Stage.DEBITED,
    (Kind.WITHDRAWAL, Stage.PENDING, False): Stage.FAILED,
    (Kind.WITHDRAWAL, Stage.DEBITED, True): Stage.COMPLETED,
    (Kind.WITHDRAWAL, Stage.DEBITED, False): Stage.REFUNDING,
    (Kind.WITHDRAWAL, Stage.REFUNDING, True): Stage.FAILED,
    (Kind.WITHDRAWAL, Stage.REFUNDING, False): Stage.FAILED,
}


def next_step(payment: Payment) -> Step | None:
    """What to do next for ``payment``; None once it is completed or failed."""
    return _STEPS.get((payment.kind, payment.stage))


def advance(payment: Payment, outcome: Outcome, now: float) -> Payment:
    """The payment after its current step answered ``outcome``."""
    stage = _NEXT.get((payment.kind, payment.stage, outcome.ok))
    if stage is None:
        raise InvalidTransition(payment.payment_id, payment.stage.value, str(outcome))
    reason = payment.reason
    if not outcome.ok and reason is None:
        reason = outcome.code
    balance = outcome.balance if outcome.balance is not None else payment.balance
    return replace(payment, stage=stage, reason=reason, updated_at=now, balance=balance)
