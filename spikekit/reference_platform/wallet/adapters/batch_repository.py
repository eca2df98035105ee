"""A batch on PostgreSQL: read its accounts and records, write its decisions, set-based.

:class:`BatchStore` runs on the unit of work's connection. It remembers the
balance and ``version`` of every account it read, so that the write can check
that none of the accounts it changes moved meanwhile (:mod:`.batch_sql`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from spikekit.reference_platform.wallet.adapters import batch_sql
from spikekit.reference_platform.wallet.adapters.rows import event_payload, record_of, tx_args
from spikekit.reference_platform.wallet.batch import (
    BatchSnapshot,
    BatchWrites,
    RoundKey,
    TxKey,
    round_key,
    tx_keys,
)
from spikekit.reference_platform.wallet.domain import Account, TxRecord, TxRequest
from spikekit.reference_platform.wallet.service_layer.unit_of_work import (
    DuplicateTransaction,
    StaleBatch,
)


def _needs(requests: Sequence[TxRequest]) -> tuple[list[TxKey], list[RoundKey]]:
    ids: dict[TxKey, None] = {}
    rounds: dict[RoundKey, None] = {}
    for request in requests:
        ids.update(dict.fromkeys(tx_keys(request)))
        found = round_key(request)
        if found is not None:
            rounds[found] = None
    return list(ids), list(rounds)


def _record_args(ids: list[TxKey], rounds: list[RoundKey]) -> list[list[str]]:
    """The arrays of :data:`~.batch_sql.READ_RECORDS`: each column's distinct values."""
    return [
        list({key[0]: None for key in ids}),
        list({key[1]: None for key in ids}),
        list({key[0]: None for key in rounds}),
        list({key[1]: None for key in rounds}),
        list({key[2]: None for key in rounds}),
    ]


class BatchStore:
    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._read: dict[str, tuple[int, int]] = {}  # player -> (balance, version) as read

    async def load(self, requests: Sequence[TxRequest], *, lock: bool) -> BatchSnapshot:
        """Optimistic: one statement. Locked: the locks, then the reads in a statement of
        their own (it sees what the previous holders of the locks committed)."""
        players = sorted({request.player_id for request in requests})
        ids, rounds = _needs(requests)
        if lock:
            try:
                account_rows = await self._conn.fetch(batch_sql.LOCK_ACCOUNTS, players)
            except asyncpg.DeadlockDetectedError as error:  # with an optimistic write
                raise StaleBatch(str(error)) from error
            record_rows = await self._conn.fetch(batch_sql.READ_RECORDS, *_record_args(ids, rounds))
        else:
            row = await self._conn.fetchrow(
                batch_sql.READ_BATCH, *_record_args(ids, rounds), players
            )
            account_rows, record_rows = row["accounts"], row["records"]
        accounts: dict[str, Account] = {}
        for player_id, balance, currency, version in account_rows:
            accounts[player_id] = Account(player_id, int(balance), str(currency))
            self._read[player_id] = (int(balance), int(version))
        records: dict[TxKey, TxRecord] = {}
        for found in map(record_of, record_rows):
            records[(found.source, found.tx_id)] = found
        return BatchSnapshot(accounts, records, frozenset(rounds))

    async def save(self, writes: BatchWrites) -> None:
        """:class:`StaleBatch` when an account changed since :meth:`load`, and nothing is
        written; :class:`DuplicateTransaction` when another transaction stored an id first."""
        columns: list[list[object]] = [[] for _ in range(10)]
        for record in writes.inserts:
            for column, value in zip(columns, tx_args(record), strict=True):
                column.append(value)
        touched = sorted({r.player_id for r in (*writes.inserts, *writes.rolled_back)})
        entries = writes.entries
        try:
            await self._conn.execute(
                batch_sql.SAVE_BATCH,
                *columns,
                [r.source for r in writes.rolled_back],
                [r.tx_id for r in writes.rolled_back],
                [e.player_id for e in entries],
                [e.source for e in entries],
                [e.tx_id for e in entries],
                [e.kind.value for e in entries],
                [e.round_id for e in entries],
                [e.amount for e in entries],
                [e.balance_after for e in entries],
                [event_payload(e) for e in entries],
                touched,
                [writes.balances.get(p, self._read[p][0]) for p in touched],
                [self._read[p][1] for p in touched],
            )
        except asyncpg.UniqueViolationError as error:
            raise DuplicateTransaction(f"a transaction id of the batch: {error}") from error
        except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError) as error:
            raise StaleBatch(str(error)) from error
