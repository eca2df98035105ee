"""In-memory fakes of the payments' own interfaces (store, queue, wallet, provider)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from spikekit.reference_platform.payments.domain import (
    DECLINED,
    Kind,
    Outcome,
    Payment,
    Unavailable,
)
from spikekit.reference_platform.payments.service_layer.ports import (
    AbstractPaymentStore,
    AbstractProvider,
    AbstractQueue,
    AbstractWallet,
    Accepted,
    Admission,
    Entry,
)


class FakeStore(AbstractPaymentStore):
    def __init__(self) -> None:
        self.payments: dict[str, Payment] = {}
        self.keys: dict[tuple[Kind, str, str], str] = {}
        self.queued: list[str] = []

    async def accept(self, payment: Payment, *, enqueue: bool, max_depth: int | None) -> Accepted:
        key = (payment.kind, payment.player_id, payment.idempotency_key)
        if key in self.keys:
            return Accepted(Admission.EXISTING, self.keys[key])
        if max_depth is not None and len(self.queued) >= max_depth:
            return Accepted(Admission.FULL, None)
        self.keys[key] = payment.payment_id
        self.payments[payment.payment_id] = payment
        if enqueue:
            self.queued.append(payment.payment_id)
        return Accepted(Admission.NEW, payment.payment_id)

    async def get(self, payment_id: str) -> Payment | None:
        return self.payments.get(payment_id)

    async def transition(self, before: Payment, after: Payment) -> bool:
        stored = self.payments.get(before.payment_id)
        if stored is None or stored.stage is not before.stage:
            return False
        self.payments[before.payment_id] = after
        return True


@dataclass
class FakeWallet(AbstractWallet):
    """Idempotent by key, like the real one; ``down`` makes every call unavailable."""

    balances: dict[str, int] = field(default_factory=dict)
    answers: dict[str, Outcome] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False

    @property
    def applied(self) -> list[str]:
        return [key for key, outcome in self.answers.items() if outcome.ok]

    async def deposit(self, player_id: str, key: str, amount: int) -> Outcome:
        return self._move("deposit", player_id, key, amount)

    async def withdraw(self, player_id: str, key: str, amount: int) -> Outcome:
        return self._move("withdraw", player_id, key, -amount)

    def _move(self, operation: str, player_id: str, key: str, delta: int) -> Outcome:
        self.calls.append((operation, key))
        if self.down:
            raise Unavailable("wallet", "down")
        if key in self.answers:
            return self.answers[key]
        if player_id not in self.balances:
            return Outcome.refused("UNKNOWN_PLAYER")
        if self.balances[player_id] + delta < 0:
            outcome = Outcome.refused("INSUFFICIENT_FUNDS")
        else:
            self.balances[player_id] += delta
            outcome = Outcome(ok=True, balance=self.balances[player_id])
        self.answers[key] = outcome
        return outcome


@dataclass
class FakeProvider(AbstractProvider):
    """Declines the payment ids in ``declines``; counts calls."""

    declines: set[str] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def charge(self, payment: Payment) -> Outcome:
        return self._answer("charge", payment)

    async def payout(self, payment: Payment) -> Outcome:
        return self._answer("payout", payment)

    def _answer(self, operation: str, payment: Payment) -> Outcome:
        self.calls.append((operation, payment.payment_id))
        if payment.payment_id in self.declines:
            return Outcome.refused(DECLINED)
        return Outcome(ok=True)


class FakeQueue(AbstractQueue):
    """A consumer group in memory: entries, who holds which, how long since delivery."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.entries: dict[str, str] = {}  # entry id -> payment id
        self.delivered: dict[str, tuple[str, float]] = {}  # entry id -> (consumer, when)
        self.now = 0.0
        self.down = False  # Redis unreachable: every call raises Unavailable
        self._next = 0

    def _drain_store(self) -> None:
        for payment_id in self.store.queued:
            self._next += 1
            self.entries[f"{self._next}-0"] = payment_id
        self.store.queued.clear()

    def _check(self) -> None:
        if self.down:
            raise Unavailable("redis", "down")

    async def ensure_group(self) -> None:
        self._check()

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Entry]:
        self._check()
        self._drain_store()
        fresh = [e for e in self.entries if e not in self.delivered][:count]
        if not fresh:  # the real read blocks for block_ms: let the other tasks run
            await asyncio.sleep(0)
        for entry_id in fresh:
            self.delivered[entry_id] = (consumer, self.now)
        return [Entry(e, self.entries[e]) for e in fresh]

    async def own_pending(self, consumer: str, count: int) -> list[Entry]:
        own = [e for e, (c, _) in self.delivered.items() if c == consumer][:count]
        return [Entry(e, self.entries[e]) for e in own]

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        idle = [
            e for e, (_, at) in self.delivered.items() if (self.now - at) * 1000 >= min_idle_ms
        ][:count]
        for entry_id in idle:
            self.delivered[entry_id] = (consumer, self.now)
        return [Entry(e, self.entries[e]) for e in idle]

    async def ack(self, entry_ids: list[str]) -> None:
        for entry_id in entry_ids:
            self.delivered.pop(entry_id, None)
            self.entries.pop(entry_id, None)

    async def depth(self) -> int:
        self._drain_store()
        return len(self.entries)

    async def pending(self) -> int:
        return len(self.delivered)

    def held_by(self, consumer: str) -> list[str]:
        return [e for e, (c, _) in self.delivered.items() if c == consumer]


def stage_of(store: FakeStore, payment_id: str) -> str:
    return store.payments[payment_id].stage.value


def with_stage(payment: Payment, **changes: object) -> Payment:
    return replace(payment, **changes)  # type: ignore[arg-type]
