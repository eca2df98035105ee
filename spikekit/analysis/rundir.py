"""Typed loading of a run directory (see ``docs/run-directory.md``).

:func:`load_run` is the only function that touches the files; everything else in
:mod:`spikekit.analysis` works on the :class:`RunData` it returns. Missing or
invalid files raise :class:`~spikekit.errors.ConfigError` naming the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow.json as pa_json
import yaml
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from spikekit.errors import ConfigError
from spikekit.scenarios.slo import SLO, RecoveryPolicy

FORMAT_VERSION = 1

META = "meta.json"
SCENARIO = "scenario.yaml"
JOURNAL = "journal.jsonl"
TIMESERIES = "timeseries.parquet"
PLAYERS = "players.parquet"
PLATFORM_METRICS = "platform_metrics.parquet"
GENERATOR = "generator.parquet"  # the load generator's own health, same columns
ACKED = "acked_transactions.jsonl"
UNACKED = "unacked_transactions.jsonl"
LEDGER = "ledger_export.parquet"
PAYMENTS = "payments_export.parquet"
AUDIT = "audit.json"

TIMESERIES_COLUMNS = ("t", "endpoint", "requests", "failures", "p50_ms", "p95_ms", "p99_ms")
PLAYERS_COLUMNS = ("t", "target_players", "actual_players")
METRICS_COLUMNS = ("t", "service", "metric", "labels", "value")
TX_COLUMNS = ("kind", "player_id", "tx_id", "amount")
LEDGER_COLUMNS = ("tx_id", "kind", "player_id", "amount")
PAYMENTS_COLUMNS = ("payment_id", "kind", "player_id", "amount", "status", "reason")


class Machine(BaseModel):
    model_config = ConfigDict(extra="allow")

    hostname: str = ""
    cpus: int = 0
    memory_gib: float = 0.0
    python: str = ""
    platform: str = ""


class RunMeta(BaseModel):
    """``meta.json``."""

    model_config = ConfigDict(extra="allow")

    format_version: int
    run_id: str
    scenario: str
    started_at: float
    ended_at: float | None = None
    status: Literal["completed", "aborted"]
    abort_reason: str | None = None
    scale: float = 1.0
    duration_scale: float = 1.0
    profile: str | None = None
    target: str = ""
    spikekit_version: str = ""
    machine: Machine = Field(default_factory=Machine)


class JournalEvent(BaseModel):
    """One line of ``journal.jsonl``; fields not used by an event stay ``None``."""

    model_config = ConfigDict(extra="allow")

    ts: float
    t: float
    event: str
    fault_id: str | None = None
    fault: str | None = None
    target: str | None = None
    planned_t: float | None = None
    duration_s: float | None = None
    params: dict[str, JsonValue] = Field(default_factory=dict)
    ok: bool | None = None
    error: str | None = None
    phase: str | None = None
    reason: str | None = None
    status: str | None = None
    source: str | None = None  # fault_reverted: "live" (the run) or "journal" (revert --all)
    # toolkit_incident
    kind: str | None = None
    subject: str | None = None
    detail: str | None = None
    records_lost_from_ts: float | None = None
    records_of: list[str] = Field(default_factory=list)


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


class _SLOSection(BaseModel):
    """The keys of ``scenario.yaml`` the analysis reads; the rest is the Scenario model's."""

    model_config = ConfigDict(extra="ignore")

    slos: list[SLO] = Field(default_factory=list)
    recovery: RecoveryPolicy = Field(default_factory=RecoveryPolicy)


@dataclass(frozen=True)
class FaultWindow:
    """One injected fault, paired from the journal (``reverted_t`` None: never reverted).

    ``revert_ok`` is None without any revert by the run, False when its revert failed
    (``revert_error`` says why; then ``reverted_t`` is None: it may still be on).
    """

    fault_id: str
    fault: str
    target: str
    injected_t: float
    reverted_t: float | None
    revert_ok: bool | None
    revert_error: str | None = None
    #: reverted afterwards from the journal (``spikekit chaos revert --all``): its outcome
    reverted_by_hand: str | None = None


@dataclass(frozen=True)
class Incident:
    """A fault of the toolkit itself during the run (``toolkit_incident`` in the journal).

    With ``records_lost_from_ts`` (Unix time) the load engine's records have a hole from
    then on: for the players of ``players`` (read from the ``records_of`` files), or for
    every player when ``players`` is None.
    """

    t: float
    kind: str
    subject: str
    detail: str
    records_lost_from_ts: float | None = None
    players: frozenset[str] | None = None

    @property
    def has_hole(self) -> bool:
        return self.records_lost_from_ts is not None


@dataclass(frozen=True)
class RunData:
    """Everything an analysis needs, loaded once. DataFrames are per-second aggregates."""

    path: Path
    meta: RunMeta
    events: list[JournalEvent]
    faults: list[FaultWindow]
    slos: list[SLO]
    recovery: RecoveryPolicy
    timeseries: Any  # DataFrame, TIMESERIES_COLUMNS (+ max_ms)
    players: Any  # DataFrame, PLAYERS_COLUMNS
    platform_metrics: Any  # DataFrame, METRICS_COLUMNS (empty when the file is absent)
    acked: Any  # DataFrame, TX_COLUMNS, or None when the file is absent
    unacked: Any  # DataFrame, TX_COLUMNS, or None
    ledger: Any  # DataFrame, LEDGER_COLUMNS, or None
    audit: PlatformAudit | None
    duration_s: int
    payments: Any = None  # DataFrame, PAYMENTS_COLUMNS, or None
    incidents: list[Incident] = field(default_factory=list)

    @property
    def aborted(self) -> bool:
        return self.meta.status == "aborted" or any(e.event == "run_aborted" for e in self.events)

    @property
    def abort_reason(self) -> str | None:
        if self.meta.abort_reason:
            return self.meta.abort_reason
        return next((e.reason for e in self.events if e.event == "run_aborted"), None)


def _need(path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(f"{path}: missing (not a spikekit run directory?)")
    return path


def _validation_message(path: Path, error: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
    )
    return f"{path}: invalid: {problems}"


def _read_parquet(path: Path, columns: tuple[str, ...]) -> Any:
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


def _load_meta(path: Path) -> RunMeta:
    try:
        meta = RunMeta.model_validate_json(_need(path).read_bytes())
    except ValidationError as error:
        raise ConfigError(_validation_message(path, error)) from error
    if meta.format_version != FORMAT_VERSION:
        raise ConfigError(f"{path}: format_version {meta.format_version}, expected 1")
    return meta


def _load_journal(path: Path) -> list[JournalEvent]:
    """Every event; a last line cut short by a crash (no newline, not JSON) is skipped."""
    text = _need(path).read_text()
    lines = text.splitlines()
    events: list[JournalEvent] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(JournalEvent.model_validate_json(line))
        except ValidationError as error:
            if number == len(lines) and not text.endswith("\n"):
                break  # torn by a crash mid-write
            raise ConfigError(_validation_message(Path(f"{path}:{number}"), error)) from error
    return events


def _load_slos(path: Path) -> tuple[list[SLO], RecoveryPolicy]:
    try:
        document = yaml.safe_load(_need(path).read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        section = _SLOSection.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_validation_message(path, error)) from error
    return section.slos, section.recovery


def faults_from_journal(events: list[JournalEvent]) -> list[FaultWindow]:
    """Pair ``fault_injected`` with its ``fault_reverted``, in injection order.

    Only a revert that worked ends a fault; a failed one leaves it on (``revert_ok``
    False, ``revert_error``). A revert with ``source: "journal"`` (``spikekit chaos revert
    --all`` after the run) is not the run's: such a fault shows as never reverted by the
    run, its outcome in ``reverted_by_hand``.
    """
    injected: dict[str, JournalEvent] = {}
    reverted: dict[str, JournalEvent] = {}
    failed: dict[str, JournalEvent] = {}
    by_hand: dict[str, JournalEvent] = {}
    for event in events:
        if event.fault_id is None:
            continue
        if event.event == "fault_injected":
            injected.setdefault(event.fault_id, event)
        elif event.event == "fault_reverted" and event.source == "journal":
            if event.ok:
                by_hand.setdefault(event.fault_id, event)
        elif event.event == "fault_reverted":
            if event.ok is False:
                failed.setdefault(event.fault_id, event)
            else:
                reverted.setdefault(event.fault_id, event)
    windows = []
    for fault_id, start in injected.items():
        end = reverted.get(fault_id)
        bad = failed.get(fault_id) if end is None else None
        hand = by_hand.get(fault_id)
        windows.append(
            FaultWindow(
                fault_id=fault_id,
                fault=start.fault or "?",
                target=start.target or "?",
                injected_t=start.t,
                reverted_t=end.t if end is not None else None,
                revert_ok=True if end is not None else (False if bad is not None else None),
                revert_error=(bad.error or "revert failed") if bad is not None else None,
                reverted_by_hand=(hand.model_extra or {}).get("outcome", "reverted")
                if hand is not None
                else None,
            )
        )
    return sorted(windows, key=lambda w: w.injected_t)


def _players_in(paths: list[Path]) -> set[str]:
    """The player ids of JSON-lines ack files (a torn or unreadable line is skipped)."""
    players: set[str] = set()
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                players.add(str(json.loads(line)["player_id"]))
            except (ValueError, KeyError, TypeError):
                continue
    return players


def incidents_from_journal(run_dir: Path, events: list[JournalEvent]) -> list[Incident]:
    """The ``toolkit_incident`` events, with the players of the files their hole names."""
    incidents = []
    for event in events:
        if event.event != "toolkit_incident":
            continue
        players = None
        if event.records_lost_from_ts is not None and event.records_of:
            players = frozenset(_players_in([run_dir / name for name in event.records_of]))
        incidents.append(
            Incident(
                t=event.t,
                kind=event.kind or "?",
                subject=event.subject or "?",
                detail=event.detail or "",
                records_lost_from_ts=event.records_lost_from_ts,
                players=players,
            )
        )
    return incidents


def load_run(run_dir: Path) -> RunData:
    """Load a run directory; raise :class:`ConfigError` naming the bad file."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: not a directory")
    meta = _load_meta(run_dir / META)
    events = _load_journal(run_dir / JOURNAL)
    slos, recovery = _load_slos(run_dir / SCENARIO)
    timeseries = _read_parquet(_need(run_dir / TIMESERIES), TIMESERIES_COLUMNS)
    players = _read_parquet(_need(run_dir / PLAYERS), PLAYERS_COLUMNS)
    frames = [
        _read_parquet(path, METRICS_COLUMNS)
        for path in (run_dir / PLATFORM_METRICS, run_dir / GENERATOR)
        if path.is_file()
    ]
    if frames:
        metrics = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    else:
        metrics = pd.DataFrame({c: pd.Series(dtype="object") for c in METRICS_COLUMNS})
    for column in ("service", "metric", "labels"):
        metrics[column] = metrics[column].astype("category")
    timeseries["endpoint"] = timeseries["endpoint"].astype("category")

    def optional_jsonl(name: str) -> Any:
        path = run_dir / name
        return _read_jsonl_table(path, TX_COLUMNS) if path.is_file() else None

    ledger_path = run_dir / LEDGER
    ledger = _read_parquet(ledger_path, LEDGER_COLUMNS) if ledger_path.is_file() else None
    payments_path = run_dir / PAYMENTS
    payments = _read_parquet(payments_path, PAYMENTS_COLUMNS) if payments_path.is_file() else None
    audit_path = run_dir / AUDIT
    audit = None
    if audit_path.is_file():
        try:
            audit = PlatformAudit.model_validate(json.loads(audit_path.read_text()))
        except (ValidationError, json.JSONDecodeError) as error:
            raise ConfigError(f"{audit_path}: invalid: {error}") from error

    last_t = max([int(frame["t"].max()) for frame in (timeseries, players) if len(frame)] + [-1])
    if last_t < 0 and meta.ended_at is not None:
        last_t = math.ceil(meta.ended_at - meta.started_at) - 1
    return RunData(
        path=run_dir,
        meta=meta,
        events=events,
        faults=faults_from_journal(events),
        slos=slos,
        recovery=recovery,
        timeseries=timeseries,
        players=players,
        platform_metrics=metrics,
        acked=optional_jsonl(ACKED),
        unacked=optional_jsonl(UNACKED),
        ledger=ledger,
        audit=audit,
        duration_s=max(last_t + 1, 0),
        payments=payments,
        incidents=incidents_from_journal(run_dir, events),
    )
