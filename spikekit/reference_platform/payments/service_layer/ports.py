"""The interfaces the payment handlers need; Redis, HTTP and the simulator implement them.

Unit tests give the handlers in-memory fakes of these (``tests/unit/payments/fakes.py``).
Every method that talks to a dependency raises
:class:`~spikekit.reference_platform.payments.domain.Unavailable` when it fails.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from enum import StrEnum

from spikekit.reference_platform.payments.domain import Kind, Outcome, Payment


class Admission(StrEnum):
    NEW = "new"  # recorded (and queued)
    EXISTING = "existing"  # the idempotency key was known: the original payment
    FULL = "full"  # the queue is over its bound: refused, nothing recorded


@dataclass(frozen=True)
class Accepted:
    admission: Admission
    payment_id: str | None  # None when FULL


@dataclass(frozen=True)
class Entry:
    """One stream entry; ``payment_id`` is None when the entry is gone or unreadable."""

    entry_id: str
    payment_id: str | None


class AbstractPaymentStore(abc.ABC):
    @abc.abstractmethod
    async def accept(self, payment: Payment, *, enqueue: bool, max_depth: int | None) -> Accepted:
        """Atomically: claim the idempotency key, record the payment, queue it."""

    @abc.abstractmethod
    async def get(self, payment_id: str) -> Payment | None: ...

    @abc.abstractmethod
    async def transition(self, before: Payment, after: Payment) -> bool:
        """Store ``after`` if the stored stage is still ``before.stage``; False otherwise."""


class AbstractQueue(abc.ABC):
    """The worker's side of the payment stream and its consumer group."""

    @abc.abstractmethod
    async def ensure_group(self) -> None: ...

    @abc.abstractmethod
    async def read(self, consumer: str, count: int, block_ms: int) -> list[Entry]:
        """New entries, delivered to ``consumer`` (they stay pending until acked)."""

    @abc.abstractmethod
    async def own_pending(self, consumer: str, count: int) -> list[Entry]:
        """Entries delivered to ``consumer`` and not acked yet (its own retries)."""

    @abc.abstractmethod
    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        """Pending entries of any consumer idle for ``min_idle_ms``, now ``consumer``'s."""

    @abc.abstractmethod
    async def ack(self, entry_ids: list[str]) -> None:
        """Acknowledge and delete: the stream's length stays the backlog."""

    @abc.abstractmethod
    async def depth(self) -> int:
        """Entries in the stream: queued plus in flight."""

    @abc.abstractmethod
    async def pending(self) -> int:
        """Entries delivered to a consumer and not acknowledged."""


class AbstractWallet(abc.ABC):
    @abc.abstractmethod
    async def deposit(self, player_id: str, key: str, amount: int) -> Outcome: ...

    @abc.abstractmethod
    async def withdraw(self, player_id: str, key: str, amount: int) -> Outcome: ...


class AbstractProvider(abc.ABC):
    """The payment provider: idempotent by the payment id, like a real one by reference."""

    @abc.abstractmethod
    async def charge(self, payment: Payment) -> Outcome: ...

    @abc.abstractmethod
    async def payout(self, payment: Payment) -> Outcome: ...


class Telemetry:
    """Where the handlers report; the metrics adapter overrides it, tests use it as is."""

    def accepted(self, kind: Kind, admission: Admission) -> None:
        pass

    def finished(self, payment: Payment, processing_s: float) -> None:
        pass

    def unavailable(self, dependency: str) -> None:
        pass

    def reclaimed(self, entries: int) -> None:
        pass

    def provider_call(self, operation: str, seconds: float, ok: bool) -> None:
        pass
