"""The PostgreSQL unit of work: one pooled connection, one transaction (or, not
``atomic``, none: an optimistic batch's single write statement is its transaction)."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any, Self

from spikekit.reference_platform.wallet.adapters.database import DB_ERRORS, Database
from spikekit.reference_platform.wallet.adapters.repository import PostgresRepository
from spikekit.reference_platform.wallet.service_layer.unit_of_work import (
    AbstractUnitOfWork,
    WalletUnavailable,
)


class PostgresUnitOfWork(AbstractUnitOfWork):
    """``async with`` acquires a connection and begins; leaving without commit rolls back.

    Not ``atomic``: no transaction is begun, each statement commits on its own (for
    optimistic batches, whose one write statement is the whole transaction).
    """

    def __init__(self, database: Database, *, atomic: bool = True) -> None:
        self._database = database
        self._atomic = atomic
        self._conn: Any = None
        self._transaction: Any = None
        self._open = False

    async def __aenter__(self) -> Self:
        try:
            self._conn = await self._database.acquire()
        except DB_ERRORS as error:
            raise WalletUnavailable(f"no database connection: {error!r}") from error
        try:
            if self._atomic:
                self._transaction = self._conn.transaction()
                await self._transaction.start()
        except BaseException as error:
            await self._release()
            if isinstance(error, DB_ERRORS):
                raise WalletUnavailable(f"database: {error!r}") from error
            raise
        self._open = True
        self.wallet = PostgresRepository(self._conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.rollback()
        except DB_ERRORS:
            pass  # the pool discards or resets a broken connection
        finally:
            await self._release()
        if isinstance(exc, DB_ERRORS):
            raise WalletUnavailable(f"database: {exc!r}") from exc

    async def commit(self) -> None:
        if self._open:
            self._open = False
            if self._transaction is not None:
                await self._transaction.commit()

    async def rollback(self) -> None:
        if self._open:
            self._open = False
            if self._transaction is not None:
                await self._transaction.rollback()

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(*DB_ERRORS):
                await self._database.release(conn)
