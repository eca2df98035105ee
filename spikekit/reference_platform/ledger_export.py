"""The wallet's ledger and the payments' final statuses as Arrow tables: what the run's
audit reconciles the load engine's acknowledged transactions against. The toolkit writes
them into the run directory (``spikekit.rundir``, docs/run-directory.md); the platform
knows nothing of where.

Ids are written as the players' side sees them: ``<provider>:<tx_id>`` for provider
transactions (bets, wins, rollbacks), the payment id alone for deposits and withdrawals.
Amounts are absolute minor units; seed entries are left out.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pyarrow as pa
import redis

from spikekit.reference_platform.wallet.domain import PAYMENTS

SCHEMA = pa.schema(
    [
        ("tx_id", pa.string()),
        ("kind", pa.string()),
        ("player_id", pa.string()),
        ("amount", pa.int64()),
        ("applied_at", pa.timestamp("us", tz="UTC")),
        ("ref_tx_id", pa.string()),
    ]
)
QUERY = """
SELECT CASE WHEN l.provider = $1 THEN l.tx_id ELSE l.provider || ':' || l.tx_id END AS tx_id,
       l.kind,
       l.player_id,
       abs(l.amount) AS amount,
       l.created_at AS applied_at,
       CASE WHEN t.original_tx_id IS NULL THEN NULL
            ELSE l.provider || ':' || t.original_tx_id END AS ref_tx_id
  FROM wallet.ledger_entries l
  LEFT JOIN wallet.transactions t ON t.provider = l.provider AND t.tx_id = l.tx_id
 WHERE l.kind <> 'seed'
 ORDER BY l.id
"""


async def _rows(dsn: str, timeout: float) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn, timeout=timeout, command_timeout=timeout)
    try:
        return list(await conn.fetch(QUERY, PAYMENTS))
    finally:
        await conn.close()


def ledger_table(dsn: str, timeout: float = 120.0) -> pa.Table:
    """Every ledger entry but the seed's, one row each (:data:`SCHEMA`)."""
    rows = asyncio.run(_rows(dsn, timeout))
    columns = {name: [row[name] for row in rows] for name in SCHEMA.names}
    return pa.Table.from_pydict(columns, schema=SCHEMA)


PAYMENTS_SCHEMA = pa.schema(
    [
        ("payment_id", pa.string()),
        ("kind", pa.string()),
        ("player_id", pa.string()),
        ("amount", pa.int64()),
        ("status", pa.string()),
        ("reason", pa.string()),
    ]
)
PAYMENT_KEYS = "payments:payment:*"


def payments_table(redis_url: str, batch: int = 1000) -> pa.Table:
    """Every payment's final status (:data:`PAYMENTS_SCHEMA`): an accepted deposit that the
    payment provider declined is legitimately absent from the ledger."""
    rows: dict[str, list[object]] = {name: [] for name in PAYMENTS_SCHEMA.names}
    client = redis.Redis.from_url(redis_url, socket_timeout=30, decode_responses=True)
    try:
        keys = list(client.scan_iter(match=PAYMENT_KEYS, count=batch))
        for start in range(0, len(keys), batch):
            pipe = client.pipeline(transaction=False)
            for key in keys[start : start + batch]:
                pipe.hgetall(key)
            for fields in pipe.execute():
                if not fields:
                    continue
                rows["payment_id"].append(fields["payment_id"])
                rows["kind"].append(fields["kind"])
                rows["player_id"].append(fields["player_id"])
                rows["amount"].append(int(fields["amount"]))
                rows["status"].append(fields["stage"])
                rows["reason"].append(fields.get("reason") or None)
    finally:
        client.close()
    return pa.Table.from_pydict(rows, schema=PAYMENTS_SCHEMA)
