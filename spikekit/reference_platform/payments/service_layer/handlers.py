"""The payment use cases: submit a payment, look one up, process one to its end.

:meth:`Payments.process` is safe to run more than once and concurrently for
the same payment (a worker crashed, its entry was reclaimed while it was in
fact only slow): every step is idempotent (the provider by payment id, the
wallet by Idempotency-Key) and a stage only changes by compare-and-set, so a
second runner that loses the race reloads the payment and carries on from
where the winner left it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from spikekit.reference_platform.payments.domain import (
    IdempotencyMismatch,
    Kind,
    Outcome,
    Payment,
    PaymentError,
    Step,
    Unavailable,
    advance,
    next_step,
)
from spikekit.reference_platform.payments.service_layer.ports import (
    AbstractPaymentStore,
    AbstractProvider,
    AbstractWallet,
    Accepted,
    Admission,
    Telemetry,
)
from spikekit.reference_platform.payments.settings import Policy

ID_PREFIX = {Kind.DEPOSIT: "dep-", Kind.WITHDRAWAL: "wd-"}


class QueueFull(PaymentError):
    """The stream is over its bound: the caller should come back after ``retry_after_s``."""

    def __init__(self, depth_bound: int, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"more than {depth_bound} payments are waiting; retry later")


class NotFound(PaymentError):
    def __init__(self, kind: Kind, payment_id: str) -> None:
        super().__init__(f"no {kind.value} {payment_id!r}")


def new_payment_id(kind: Kind) -> str:
    """``dep-<32 hex>``: also the wallet transaction id, so within its id pattern."""
    return ID_PREFIX[kind] + uuid.uuid4().hex


@dataclass(frozen=True)
class Submitted:
    payment: Payment
    replayed: bool  # the idempotency key was known: this is the original payment


@dataclass
class Payments:
    """The handlers with their dependencies, as wired by :mod:`..bootstrap`."""

    store: AbstractPaymentStore
    wallet: AbstractWallet
    provider: AbstractProvider
    policy: Policy = field(default_factory=Policy)
    max_queue_depth: int = 50_000
    retry_after_s: int = 2
    sync_timeout_s: float = 10.0
    telemetry: Telemetry = field(default_factory=Telemetry)
    clock: Callable[[], float] = time.time

    async def submit(self, kind: Kind, player_id: str, amount: int, key: str) -> Submitted:
        """Record and queue a payment (202), or return the one ``key`` already names.

        Without the queue (fragile profile) the payment is processed before the
        answer, so the caller waits for the provider and the wallet.
        """
        now = self.clock()
        payment = Payment(
            new_payment_id(kind), kind, player_id, amount, key, created_at=now, updated_at=now
        )
        bound = self.max_queue_depth if self.policy.queued and self.policy.backpressure else None
        accepted = await self.store.accept(payment, enqueue=self.policy.queued, max_depth=bound)
        self.telemetry.accepted(kind, accepted.admission)
        existing = await self._admitted(accepted, payment)
        if existing is not None:
            return Submitted(existing, replayed=True)
        if not self.policy.queued:
            async with asyncio.timeout(self.sync_timeout_s):
                payment = await self.process(payment.payment_id) or payment
        return Submitted(payment, replayed=False)

    async def _admitted(self, accepted: Accepted, payment: Payment) -> Payment | None:
        if accepted.admission is Admission.FULL:
            raise QueueFull(self.max_queue_depth, self.retry_after_s)
        if accepted.admission is Admission.NEW:
            return None
        assert accepted.payment_id is not None
        existing = await self.store.get(accepted.payment_id)
        if existing is None:  # the record expired just before its key: retry makes a new one
            raise Unavailable("redis", f"payment {accepted.payment_id} expired; retry")
        if not existing.same_request(payment.kind, payment.player_id, payment.amount):
            raise IdempotencyMismatch(payment.idempotency_key, existing.payment_id)
        return existing

    async def get(self, kind: Kind, payment_id: str) -> Payment:
        payment = await self.store.get(payment_id)
        if payment is None or payment.kind is not kind:
            raise NotFound(kind, payment_id)
        return payment

    async def process(self, payment_id: str) -> Payment | None:
        """Run the payment's remaining steps; None when no such payment is stored."""
        started = time.perf_counter()
        payment = await self.store.get(payment_id)
        if payment is None:
            return None
        while (step := next_step(payment)) is not None:
            outcome = await self._perform(step, payment)
            moved = advance(payment, outcome, self.clock())
            if await self.store.transition(payment, moved):
                payment = moved
                if payment.stage.terminal:  # this runner finished it: count it once
                    self.telemetry.finished(payment, time.perf_counter() - started)
                continue
            reloaded = await self.store.get(payment_id)  # another runner moved it
            if reloaded is None:
                return None
            payment = reloaded
        return payment

    async def _perform(self, step: Step, payment: Payment) -> Outcome:
        if step is Step.CHARGE:
            return await self._provider("charge", self.provider.charge, payment)
        if step is Step.PAYOUT:
            return await self._provider("payout", self.provider.payout, payment)
        key = payment.wallet_key
        if step is Step.DEBIT:
            return await self.wallet.withdraw(payment.player_id, key, payment.amount)
        return await self.wallet.deposit(payment.player_id, key, payment.amount)  # credit, refund

    async def _provider(
        self, operation: str, call: Callable[[Payment], Awaitable[Outcome]], payment: Payment
    ) -> Outcome:
        started = time.perf_counter()
        outcome = await call(payment)
        self.telemetry.provider_call(operation, time.perf_counter() - started, outcome.ok)
        return outcome
