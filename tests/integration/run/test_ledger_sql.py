"""A platform of the user's own: its ledger read through a DSN from a real PostgreSQL, in a
ledger of another shape, and reconciled with the audit's own checks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pandas as pd
import pytest

from spikekit.analysis.audit import CheckStatus, reconcile
from spikekit.guard import TargetGuard
from spikekit.reference_platform.postgres import PostgresServer
from spikekit.run.ledger_source import LedgerError, check_ledger, read_ledger
from spikekit.scenarios.ledger import SqlLedger

ENV = "TEST_LEDGER_DSN"
QUERY = "SELECT ref, what, who, cents, at FROM casino.moves WHERE at >= $1 AND at <= $2 ORDER BY at"
COLUMNS = {
    "tx_id": "ref",
    "kind": "what",
    "player_id": "who",
    "amount": "cents",
    "applied_at": "at",
}
START = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


async def _setup(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "DROP SCHEMA IF EXISTS casino CASCADE; CREATE SCHEMA casino; "
            "CREATE TABLE casino.moves (ref text, what text, who text, cents bigint, "
            "at timestamptz)"
        )
        rows = [
            ("w-1", "wager", "p1", -250, START + timedelta(seconds=1)),
            ("w-2", "wager", "p1", -250, START + timedelta(seconds=2)),
            ("w-2", "wager", "p1", -250, START + timedelta(seconds=3)),  # applied twice
            ("d-1", "deposit", "p2", 10_000, START + timedelta(seconds=4)),
            ("old", "wager", "p9", -1, START - timedelta(days=1)),  # before the run
        ]
        await conn.executemany("INSERT INTO casino.moves VALUES ($1, $2, $3, $4, $5)", rows)
    finally:
        await conn.close()


@pytest.fixture
def ledger_dsn(postgres_server: PostgresServer) -> Iterator[dict[str, str]]:
    asyncio.run(_setup(postgres_server.dsn))
    yield {ENV: postgres_server.dsn}


def _source(query: str = QUERY) -> SqlLedger:
    return SqlLedger.model_validate(
        {"query": query, "dsn_env": ENV, "columns": COLUMNS, "kinds": {"wager": "bet"}}
    )


def test_the_query_is_checked_before_the_run_and_read_after_it(ledger_dsn: dict[str, str]) -> None:
    source = _source()
    assert ENV in check_ledger(source, "baseline", TargetGuard(), env=ledger_dsn)
    table = read_ledger(source, "baseline", START, START + timedelta(minutes=5), env=ledger_dsn)
    assert table.column("tx_id").to_pylist() == ["w-1", "w-2", "w-2", "d-1"]  # $1/$2 bound
    assert table.column("kind").to_pylist() == ["bet", "bet", "bet", "deposit"]
    assert table.column("amount").to_pylist() == [250, 250, 250, 10_000]

    acked = pd.DataFrame(
        {
            "tx_id": ["w-1", "w-2", "d-1", "w-3"],  # w-3 acknowledged, never applied
            "kind": ["bet", "bet", "deposit", "bet"],
            "player_id": ["p1", "p1", "p2", "p1"],
            "amount": [250, 250, 10_000, 250],
        }
    )
    findings = {f.name: f for f in reconcile(acked, None, table.to_pandas())}
    assert findings["acked_applied"].status is CheckStatus.FAILED
    assert findings["acked_applied"].offending_ids == ("w-3",)
    assert findings["applied_once"].offending_ids == ("w-2",)
    assert findings["acked_amounts_match"].status is CheckStatus.PASSED
    assert findings["nothing_unrequested"].status is CheckStatus.PASSED


def test_a_broken_query_or_a_missing_column_is_refused_before_the_run(
    ledger_dsn: dict[str, str],
) -> None:
    with pytest.raises(LedgerError, match=r"target.ledger.query: .*casino.nothing"):
        check_ledger(_source("SELECT * FROM casino.nothing"), "b", TargetGuard(), env=ledger_dsn)
    narrow = _source("SELECT ref, what, cents, at FROM casino.moves")
    with pytest.raises(LedgerError, match=r"no column for player_id \(who\)"):
        check_ledger(narrow, "b", TargetGuard(), env=ledger_dsn)
    many = _source("SELECT ref, what, who, cents, at FROM casino.moves WHERE at IN ($1, $2, $3)")
    with pytest.raises(LedgerError, match="3 parameters; expected at most 2"):
        check_ledger(many, "b", TargetGuard(), env=ledger_dsn)


def test_the_query_runs_read_only(ledger_dsn: dict[str, str]) -> None:
    sneaky = _source(
        "WITH gone AS (DELETE FROM casino.moves RETURNING ref, what, who, cents, at) "
        "SELECT * FROM gone"
    )
    with pytest.raises(LedgerError, match="read-only transaction"):
        read_ledger(sneaky, "b", START, START + timedelta(minutes=5), env=ledger_dsn)
    still = read_ledger(_source(), "b", START, START + timedelta(minutes=5), env=ledger_dsn)
    assert still.num_rows == 4
