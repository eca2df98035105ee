"""A bounded asyncpg pool behind typed methods; every call has a timeout.

asyncpg is untyped: its objects stay inside the adapters, and every failure of
the database (refused, reset, timed out, terminated backend) becomes
:class:`WalletUnavailable` at the unit-of-work boundary.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from spikekit.reference_platform.common import oplog
from spikekit.reference_platform.common.connections import close_pool, create_pool
from spikekit.reference_platform.wallet.adapters.schema import ensure_schema

DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


async def _keep_session(_: Any) -> None:
    """Release without asyncpg's reset query (a round trip per release).

    Safe because the wallet never leaves session state behind: no LISTEN, no
    cursors outside a transaction, no SET outside a transaction, advisory locks
    only transaction-scoped (``pg_advisory_xact_lock``). asyncpg still rolls back
    a transaction left open before calling this.
    """


class Database:
    """One connection pool; ``timeout`` bounds acquiring a connection and every statement."""

    def __init__(self, pool: Any, timeout: float) -> None:
        self._pool = pool
        self.timeout = timeout
        self.size = int(pool.get_max_size())

    @classmethod
    async def connect(cls, dsn: str, *, service: str, size: int, timeout: float) -> Database:
        pool = await create_pool(
            dsn,
            service,
            min_size=min(2, size),
            max_size=size,
            timeout=timeout,  # connecting
            command_timeout=timeout,  # every statement, BEGIN and COMMIT included
            max_inactive_connection_lifetime=60.0,
            reset=_keep_session,
        )
        database = cls(pool, timeout)
        async with pool.acquire(timeout=timeout) as conn:
            await ensure_schema(conn)
        return database

    @property
    def pool(self) -> Any:
        """The asyncpg pool, for the shared readiness check."""
        return self._pool

    def in_use(self) -> int:
        return int(self._pool.get_size() - self._pool.get_idle_size())

    async def acquire(self) -> Any:
        try:
            return await self._pool.acquire(timeout=self.timeout)
        except TimeoutError:
            oplog.event("db_pool_exhausted", "error", size=self.size, timeout_s=self.timeout)
            raise

    async def release(self, conn: Any) -> None:
        await self._pool.release(conn, timeout=self.timeout)

    async def close(self) -> None:
        await close_pool(self._pool, self.timeout)
