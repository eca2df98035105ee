"""The wallet's ledger as ``ledger_export.parquet`` and the payments' final statuses as
``payments_export.parquet``: what the run's audit reconciles the
load engine's acknowledged transactions against (docs/run-directory.md).

Ids are written as the players' side sees them: ``<provider>:<tx_id>`` for provider
transactions (bets, wins, rollbacks), the payment id alone for deposits and withdrawals.
Amounts are absolute minor units; seed entries are left out.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pyarrow as pa
import pyarrow.parquet as pq
import redis

from spikekit.reference_platform.wallet.domain import PAYMENTS

FILE_NAME = "ledger_export.parquet"
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


def export_ledger(dsn: str, run_dir: Path, timeout: float = 120.0) -> int:
    """Write ``ledger_export.parquet`` into ``run_dir``; returns the number of entries."""
    rows = asyncio.run(_rows(dsn, timeout))
    columns = {name: [row[name] for row in rows] for name in SCHEMA.names}
    table = pa.Table.from_pydict(columns, schema=SCHEMA)
    pq.write_table(table, run_dir / FILE_NAME)
    return len(rows)


PAYMENTS_FILE = "payments_export.parquet"
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


def export_payments(redis_url: str, run_dir: Path, batch: int = 1000) -> int:
    """Write every payment's final status to ``payments_export.parquet``: an accepted
    deposit that the payment provider declined is legitimately absent from the ledger."""
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
    pq.write_table(pa.Table.from_pydict(rows, schema=PAYMENTS_SCHEMA), run_dir / PAYMENTS_FILE)
    return len(rows["payment_id"])
