"""The interface the handlers need from storage: a unit of work holding one repository.

One unit of work is one database transaction on one account. The PostgreSQL
implementation is in :mod:`..adapters.unit_of_work`; tests use a fake.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

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
