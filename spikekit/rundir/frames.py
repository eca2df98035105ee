"""The run directory as DataFrames, for the analysis: each table checked for the columns
the analysis reads, each bad file a :class:`~spikekit.errors.ConfigError` naming it.

Also the files the platform writes after the run: ``audit.json`` (:class:`PlatformAudit`,
written by :func:`write_audit`), ``ledger_export.parquet`` and ``payments_export.parquet``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.json as pa_json
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spikekit.errors import ConfigError
from spikekit.rundir.files import need, replace_atomically
from spikekit.rundir.layout import (
    ACKED,
    AUDIT,
    GENERATOR,
    LEDGER,
    PAYMENTS,
    PLATFORM_METRICS,
    PLAYERS,
    TIMESERIES,
    UNACKED,
)

TIMESERIES_COLUMNS = ("t", "endpoint", "requests", "failures", "p50_ms", "p95_ms", "p99_ms")
PLAYERS_COLUMNS = ("t", "target_players", "actual_players")
METRICS_COLUMNS = ("t", "service", "metric", "labels", "value")
TX_COLUMNS = ("kind", "player_id", "tx_id", "amount")
LEDGER_COLUMNS = ("tx_id", "kind", "player_id", "amount")
PAYMENTS_COLUMNS = ("payment_id", "kind", "player_id", "amount", "status", "reason")


class AuditCheck(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    ok: bool
    detail: str = ""
    offending_ids: list[str] = Field(default_factory=list)


class PlatformAudit(BaseModel):
    """``audit.json``: the platform's own ledger invariants."""

    model_config = ConfigDict(extra="allow")

    ok: bool
    checks: list[AuditCheck] = Field(default_factory=list)


def write_audit(run_dir: Path, document: dict[str, Any]) -> None:
    """``audit.json`` (the platform audit's report, as JSON)."""
    (run_dir / AUDIT).write_text(json.dumps(document, indent=2))


def read_audit(run_dir: Path) -> PlatformAudit | None:
    path = run_dir / AUDIT
    if not path.is_file():
        return None
    try:
        return PlatformAudit.model_validate(json.loads(path.read_text()))
    except (ValidationError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: invalid: {error}") from error


def read_parquet(path: Path, columns: tuple[str, ...]) -> Any:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several unrelated types
        raise ConfigError(f"{path}: unreadable parquet: {error}") from error
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing columns {missing}")
    return frame


def _read_jsonl_table(path: Path, columns: tuple[str, ...]) -> Any:
    """A JSON-lines file read by pyarrow (fast for millions of lines)."""
    if path.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    try:
        frame = pa_json.read_json(path).to_pandas()
    except Exception as error:
        raise ConfigError(f"{path}: unreadable JSON lines: {error}") from error
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing fields {missing}")
    frame["tx_id"] = frame["tx_id"].astype(str)
    frame["player_id"] = frame["player_id"].astype(str)
    return frame


def read_timeseries(run_dir: Path) -> Any:
    """``timeseries.parquet`` (required), ``endpoint`` as a category."""
    frame = read_parquet(need(run_dir / TIMESERIES), TIMESERIES_COLUMNS)
    frame["endpoint"] = frame["endpoint"].astype("category")
    return frame


def read_players(run_dir: Path) -> Any:
    """``players.parquet`` (required)."""
    return read_parquet(need(run_dir / PLAYERS), PLAYERS_COLUMNS)


def read_metrics(run_dir: Path) -> Any:
    """``platform_metrics.parquet`` and ``generator.parquet`` together (empty without
    either); ``service``, ``metric`` and ``labels`` as categories."""
    frames = [
        read_parquet(path, METRICS_COLUMNS)
        for path in (run_dir / PLATFORM_METRICS, run_dir / GENERATOR)
        if path.is_file()
    ]
    if frames:
        metrics = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    else:
        metrics = pd.DataFrame({c: pd.Series(dtype="object") for c in METRICS_COLUMNS})
    for column in ("service", "metric", "labels"):
        metrics[column] = metrics[column].astype("category")
    return metrics


def _optional_jsonl(path: Path) -> Any:
    return _read_jsonl_table(path, TX_COLUMNS) if path.is_file() else None


def read_acked(run_dir: Path) -> Any:
    """``acked_transactions.jsonl`` (ids as strings), or None when absent."""
    return _optional_jsonl(run_dir / ACKED)


def read_unacked(run_dir: Path) -> Any:
    return _optional_jsonl(run_dir / UNACKED)


def _optional_parquet(path: Path, columns: tuple[str, ...]) -> Any:
    return read_parquet(path, columns) if path.is_file() else None


def _write_export(path: Path, table: Any, columns: tuple[str, ...]) -> None:
    """A platform's export (a pyarrow Table holding at least ``columns``), atomically."""
    import pyarrow.parquet as pq

    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ConfigError(f"{path.name}: the export lacks the columns {', '.join(missing)}")
    replace_atomically(path, lambda partial: pq.write_table(table, partial))


def write_ledger(run_dir: Path, table: Any) -> None:
    """``ledger_export.parquet``: the platform's ledger, as its export gives it."""
    _write_export(run_dir / LEDGER, table, LEDGER_COLUMNS)


def write_payments(run_dir: Path, table: Any) -> None:
    """``payments_export.parquet``: every payment's final status."""
    _write_export(run_dir / PAYMENTS, table, PAYMENTS_COLUMNS)


def read_ledger(run_dir: Path) -> Any:
    """``ledger_export.parquet``, or None when absent."""
    return _optional_parquet(run_dir / LEDGER, LEDGER_COLUMNS)


def read_payments(run_dir: Path) -> Any:
    """``payments_export.parquet``, or None when absent."""
    return _optional_parquet(run_dir / PAYMENTS, PAYMENTS_COLUMNS)
