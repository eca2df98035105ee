"""The wallet repository on PostgreSQL: read under the account lock, write in one statement.

A money request costs five round trips: BEGIN, lock the account row, read the
transaction records it needs, one statement writing everything (transaction
record, ledger entry, outbox event, balance), COMMIT. A batch of requests costs
two, whatever its size (:mod:`.batch_repository`, :mod:`.batch_sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from spikekit.reference_platform.wallet.adapters import batch_sql
from spikekit.reference_platform.wallet.adapters.batch_repository import BatchStore
from spikekit.reference_platform.wallet.adapters.rows import event_payload, record_of, tx_args
from spikekit.reference_platform.wallet.batch import BatchSnapshot, BatchWrites
from spikekit.reference_platform.wallet.domain import (
    Account,
    Decision,
    RoundState,
    Snapshot,
    TxKind,
    TxRequest,
)
from spikekit.reference_platform.wallet.service_layer.unit_of_work import (
    AbstractRepository,
    DuplicateTransaction,
)

_TX_COLUMNS = batch_sql.TX_COLUMNS
LOCK_ACCOUNT = "SELECT balance, currency FROM wallet.accounts WHERE player_id = $1 FOR UPDATE"
READ_ACCOUNT = "SELECT balance, currency FROM wallet.accounts WHERE player_id = $1"
READ_TRANSACTIONS = (
    f"SELECT {_TX_COLUMNS} FROM wallet.transactions WHERE provider = $1 AND tx_id = ANY($2::text[])"
)
READ_ROUND = """
SELECT count(*) FILTER (WHERE kind = 'bet' AND status = 'applied') AS open_bets,
       count(*) FILTER (WHERE kind = 'bet' AND status IN ('rolled_back', 'cancelled'))
           AS rolled_back,
       count(*) FILTER (WHERE kind = 'win' AND status = 'applied') AS wins
FROM wallet.transactions WHERE provider = $1 AND round_id = $2 AND player_id = $3
"""
_INSERT_TX = (
    f"INSERT INTO wallet.transactions ({_TX_COLUMNS}) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
_SAVE = """
WITH tx AS (
    {insert_tx}
), entry AS (
    INSERT INTO wallet.ledger_entries
        (player_id, provider, tx_id, kind, round_id, amount, balance_after)
    SELECT $4, $1, $2, $3, $5, $11::bigint, $9 WHERE $11::bigint <> 0
), event AS (
    INSERT INTO wallet.outbox (payload) SELECT $12::text WHERE $12::text IS NOT NULL
)
UPDATE wallet.accounts
SET balance = CASE WHEN $11::bigint <> 0 THEN $9 ELSE balance END, version = version + 1
WHERE player_id = $4
"""
SAVE = _SAVE.format(insert_tx=_INSERT_TX)
SAVE_FRAGILE = _SAVE.format(insert_tx=_INSERT_TX + " ON CONFLICT DO NOTHING")
MARK_ROLLED_BACK = (
    "UPDATE wallet.transactions SET status = 'rolled_back' WHERE provider = $1 AND tx_id = $2"
)
OPEN_ACCOUNT = """
INSERT INTO wallet.accounts (player_id, balance, currency) VALUES ($1, 0, $2)
ON CONFLICT (player_id) DO NOTHING RETURNING balance, currency
"""


class PostgresRepository(AbstractRepository):
    """Runs on the unit of work's connection, inside its transaction."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._batch = BatchStore(conn)

    async def snapshot(self, request: TxRequest, *, lock: bool) -> Snapshot | None:
        # The lock comes first, in its own statement: the reads after it see what
        # the previous holder of the lock committed (READ COMMITTED, new snapshot).
        row = await self._conn.fetchrow(LOCK_ACCOUNT if lock else READ_ACCOUNT, request.player_id)
        if row is None:
            return None
        account = Account(request.player_id, int(row["balance"]), str(row["currency"]))
        ids = [request.tx_id]
        if request.original_tx_id is not None:
            ids.append(request.original_tx_id)
        records = {
            r.tx_id: r
            for r in map(record_of, await self._conn.fetch(READ_TRANSACTIONS, request.source, ids))
        }
        round_state = RoundState()
        if request.kind in (TxKind.WIN, TxKind.ROLLBACK) and request.round_id is not None:
            counts = await self._conn.fetchrow(
                READ_ROUND, request.source, request.round_id, request.player_id
            )
            round_state = RoundState(
                int(counts["open_bets"]), int(counts["rolled_back"]), int(counts["wins"])
            )
        original = records.get(request.original_tx_id) if request.original_tx_id else None
        return Snapshot(account, records.get(request.tx_id), original, round_state)

    async def account(self, player_id: str) -> Account | None:
        row = await self._conn.fetchrow(READ_ACCOUNT, player_id)
        if row is None:
            return None
        return Account(player_id, int(row["balance"]), str(row["currency"]))

    async def open_account(self, player_id: str, currency: str) -> tuple[Account, bool]:
        row = await self._conn.fetchrow(OPEN_ACCOUNT, player_id, currency)
        if row is not None:
            return Account(player_id, int(row["balance"]), str(row["currency"])), True
        existing = await self.account(player_id)
        assert existing is not None  # it conflicted, so it exists
        return existing, False

    async def save(self, decision: Decision, *, idempotent: bool) -> None:
        record = decision.record
        assert record is not None
        entry = decision.entry
        args = (
            *tx_args(record),
            entry.amount if entry is not None else 0,
            event_payload(entry) if entry is not None else None,
        )
        try:
            await self._conn.execute(SAVE if idempotent else SAVE_FRAGILE, *args)
            if decision.refunded is not None:
                refunded = decision.refunded
                await self._conn.execute(MARK_ROLLED_BACK, refunded.source, refunded.tx_id)
            if decision.tombstone is not None:
                insert = _INSERT_TX if idempotent else _INSERT_TX + " ON CONFLICT DO NOTHING"
                await self._conn.execute(insert, *tx_args(decision.tombstone))
        except asyncpg.UniqueViolationError as error:
            raise DuplicateTransaction(
                f"{record.source}:{record.tx_id} stored concurrently"
            ) from error

    async def load_batch(self, requests: Sequence[TxRequest], *, lock: bool) -> BatchSnapshot:
        return await self._batch.load(requests, lock=lock)

    async def save_batch(self, writes: BatchWrites) -> None:
        await self._batch.save(writes)
