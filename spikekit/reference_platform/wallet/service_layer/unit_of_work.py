"""The interface the handlers need from storage: a unit of work holding one repository.

One unit of work is one database transaction: on one account, or on the
accounts of one batch (locked together, in player id order). The PostgreSQL
implementation is in :mod:`..adapters.unit_of_work`; tests use a fake.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from spikekit.reference_platform.wallet.batch import BatchSnapshot, BatchWrites
from spikekit.reference_platform.wallet.domain import (
    Account,
    Decision,
    Snapshot,
    TxRequest,
    WalletError,
)


class WalletUnavailable(WalletError):
    """Storage did not answer in time or refused the connection; the caller may retry."""


class DuplicateTransaction(WalletError):
    """A concurrent request on another account stored the same transaction id first."""


class StaleBatch(WalletError):
    """An account of an optimistic batch changed between its read and its write; nothing
    was written, the batch is redone under locks."""


class AbstractRepository(abc.ABC):
    @abc.abstractmethod
    async def snapshot(self, request: TxRequest, *, lock: bool) -> Snapshot | None:
        """The account (locked when ``lock``) and the records the request needs.

        None when the player has no account.
        """

    @abc.abstractmethod
    async def account(self, player_id: str) -> Account | None: ...

    @abc.abstractmethod
    async def open_account(self, player_id: str, currency: str) -> tuple[Account, bool]:
        """The account, created with a zero balance when missing (True: created now)."""

    @abc.abstractmethod
    async def save(self, decision: Decision, *, idempotent: bool) -> None:
        """Store the decision's rows and its event; ``idempotent`` False skips a known id."""

    @abc.abstractmethod
    async def load_batch(self, requests: Sequence[TxRequest], *, lock: bool) -> BatchSnapshot:
        """The accounts of ``requests`` and the records and rounds they need.

        ``lock``: lock the accounts first (in player id order: no deadlock between
        batches); otherwise read without locks, and :meth:`save_batch` checks.
        """

    @abc.abstractmethod
    async def save_batch(self, writes: BatchWrites) -> None:
        """Store a batch's records, ledger entries, events and balances.

        :class:`DuplicateTransaction` when another transaction stored one of its ids first,
        :class:`StaleBatch` when an account it writes changed since :meth:`load_batch`;
        either way nothing is written.
        """


class AbstractUnitOfWork(abc.ABC):
    wallet: AbstractRepository

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()  # a no-op after commit()

    @abc.abstractmethod
    async def commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None: ...
