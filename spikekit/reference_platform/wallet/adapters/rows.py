"""Rows and values: stored transaction records, statement arguments, event payloads."""

from __future__ import annotations

import json
import time
from typing import Any

from spikekit.reference_platform.wallet.domain import (
    Code,
    LedgerEntry,
    TxKind,
    TxRecord,
    TxStatus,
)


def record_of(row: Any) -> TxRecord:
    """A record from a row (or tuple) of :data:`~.batch_sql.TX_COLUMNS`, in that order."""
    provider, tx_id, kind, player_id, round_id, amount, status, code, balance_after, original = row
    return TxRecord(
        source=str(provider),
        tx_id=str(tx_id),
        kind=TxKind(kind),
        player_id=str(player_id),
        amount=int(amount),
        status=TxStatus(status),
        code=Code(code),
        balance_after=int(balance_after),
        round_id=round_id,
        original_tx_id=original,
    )


def tx_args(record: TxRecord) -> tuple[object, ...]:
    return (
        record.source,
        record.tx_id,
        record.kind.value,
        record.player_id,
        record.round_id,
        record.amount,
        record.status.value,
        record.code.value,
        record.balance_after,
        record.original_tx_id,
    )


def event_payload(entry: LedgerEntry) -> str:
    """The wallet event published to the stream for one ledger entry."""
    return json.dumps(
        {
            "event_id": f"{entry.source}:{entry.tx_id}",
            "type": entry.kind.value,
            "provider": entry.source,
            "tx_id": entry.tx_id,
            "player_id": entry.player_id,
            "round_id": entry.round_id or "",
            "amount": entry.amount,
            "balance": entry.balance_after,
            "ts": round(time.time(), 6),
        },
        separators=(",", ":"),
    )
