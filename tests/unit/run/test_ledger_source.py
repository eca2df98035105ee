"""A platform of the user's own: its ledger export as the audit's table (no database here)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from spikekit.errors import UnsafeTargetError
from spikekit.guard import TargetGuard
from spikekit.run.ledger_source import (
    LedgerError,
    check_ledger,
    ledger_path,
    normalise,
    read_ledger,
)
from spikekit.scenarios.ledger import FileLedger, SqlLedger
from spikekit.scenarios.target import UrlTarget

COLUMNS = {"tx_id": "id", "kind": "type", "player_id": "account", "amount": "value"}


def _file(path: str, **extra: object) -> FileLedger:
    return FileLedger.model_validate({"file": path, "columns": COLUMNS, **extra})


def test_rows_become_the_audits_table_with_kinds_mapped_and_exact_cents() -> None:
    source = _file("x.csv", kinds={"wager": "bet", "payout": "win"}, amount_scale=100)
    rows = [
        {"id": 7, "type": "wager", "account": "p1", "value": "-12.34"},
        {"id": "8", "type": "payout", "account": "p1", "value": "0.10"},
        {"id": "9", "type": "deposit", "account": "p2", "value": "100"},
    ]
    table = normalise(rows, source, "test")
    assert table.column("tx_id").to_pylist() == ["7", "8", "9"]
    assert table.column("kind").to_pylist() == ["bet", "win", "deposit"]
    assert table.column("amount").to_pylist() == [1234, 10, 10_000]
    assert table.column("applied_at").null_count == 3


def test_a_fraction_of_a_cent_is_an_error_never_rounded() -> None:
    source = _file("x.csv", amount_scale=100)
    with pytest.raises(LedgerError, match=r"row 2: amount '0.005' x 100 is not a whole"):
        normalise(
            [
                {"id": "1", "type": "bet", "account": "p", "value": "1"},
                {"id": "2", "type": "bet", "account": "p", "value": "0.005"},
            ],
            source,
            "test",
        )


def test_a_csv_file_relative_to_the_scenario_is_read_with_ids_as_text(tmp_path: Path) -> None:
    scenario = tmp_path / "mine.yaml"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "ledger.csv").write_text(
        "id,type,account,value,created\n"
        "0042,bet,007,250,2026-12-02T10:00:00+00:00\n"
        "0043,win,007,500,2026-12-02T10:00:01\n",
        encoding="utf-8",
    )
    source = _file("out/ledger.csv", columns={**COLUMNS, "applied_at": "created"})
    assert ledger_path(source, str(scenario)) == tmp_path / "out" / "ledger.csv"
    assert "ledger.csv" in check_ledger(source, str(scenario), TargetGuard())
    table = read_ledger(source, str(scenario), *_times())
    assert table.column("tx_id").to_pylist() == ["0042", "0043"]  # leading zeros kept
    assert table.column("player_id").to_pylist() == ["007", "007"]
    assert table.column("applied_at").null_count == 0


def test_a_parquet_file_missing_a_column_names_it_and_what_it_has(tmp_path: Path) -> None:
    path = tmp_path / "ledger.parquet"
    pq.write_table(pa.table({"id": ["1"], "type": ["bet"], "value": [5]}), path)
    source = _file(str(path))
    with pytest.raises(LedgerError, match=r"no column for player_id \(account\); it has id, type"):
        read_ledger(source, "baseline", *_times())


def test_a_file_absent_after_the_run_or_a_missing_folder_is_said(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="was not there after the run"):
        read_ledger(_file(str(tmp_path / "none.csv")), "baseline", *_times())
    with pytest.raises(LedgerError, match="does not exist"):
        check_ledger(_file(str(tmp_path / "no" / "l.csv")), "baseline", TargetGuard())


def test_the_dsn_comes_from_the_environment_and_its_host_is_guarded() -> None:
    source = SqlLedger(query="SELECT 1", dsn_env="MY_LEDGER_DSN")
    with pytest.raises(LedgerError, match="MY_LEDGER_DSN is not set"):
        check_ledger(source, "baseline", TargetGuard(), env={})
    far = TargetGuard(resolver=lambda host: ["203.0.113.9"])
    with pytest.raises(UnsafeTargetError):
        check_ledger(source, "b", far, env={"MY_LEDGER_DSN": "postgresql://u@db.example:5432/x"})
    with pytest.raises(LedgerError, match="not a postgresql:// DSN"):
        check_ledger(source, "b", TargetGuard(), env={"MY_LEDGER_DSN": "mysql://u@127.0.0.1/x"})


def test_the_scenario_refuses_a_query_that_is_not_a_select_and_a_bad_file_name() -> None:
    with pytest.raises(ValidationError, match="expected a SELECT or WITH query"):
        UrlTarget.model_validate({"url": "http://127.0.0.1:1", "ledger": {"query": "DROP x"}})
    with pytest.raises(ValidationError, match=r"expected a \.csv or \.parquet file"):
        UrlTarget.model_validate({"url": "http://127.0.0.1:1", "ledger": {"file": "l.json"}})
    with pytest.raises(ValidationError, match="kinds"):
        UrlTarget.model_validate(
            {"url": "http://127.0.0.1:1", "ledger": {"file": "l.csv", "kinds": {"x": "jackpot"}}}
        )


def _times() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now, now
