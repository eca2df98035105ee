"""Typed loading of a run directory for the analysis (see ``docs/run-directory.md``).

:func:`load_run` is the only function that touches the files, through their owner
:mod:`spikekit.rundir`; everything else in :mod:`spikekit.analysis` works on the
:class:`RunData` it returns. Missing or invalid files raise
:class:`~spikekit.errors.ConfigError` naming the file.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spikekit.errors import ChaosError, ConfigError
from spikekit.rundir import frames
from spikekit.rundir.acks import players_in
from spikekit.rundir.files import need
from spikekit.rundir.frames import PlatformAudit
from spikekit.rundir.journal import (
    FaultInjected,
    FaultReverted,
    JournalEvent,
    RunAbortedEvent,
    ToolkitIncident,
    read_journal,
)
from spikekit.rundir.layout import JOURNAL
from spikekit.rundir.meta import RunMeta, read_meta, read_slos
from spikekit.rundir.second_histograms import LatencyHistograms, read_latency_histograms
from spikekit.scenarios.slo import SLO, RecoveryPolicy


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
    timeseries: Any  # DataFrame, frames.TIMESERIES_COLUMNS (+ max_ms)
    players: Any  # DataFrame, PLAYERS_COLUMNS
    platform_metrics: Any  # DataFrame, METRICS_COLUMNS (empty when the file is absent)
    acked: Any  # DataFrame, TX_COLUMNS, or None when the file is absent
    unacked: Any  # DataFrame, TX_COLUMNS, or None
    ledger: Any  # DataFrame, LEDGER_COLUMNS, or None
    audit: PlatformAudit | None
    duration_s: int
    payments: Any = None  # DataFrame, PAYMENTS_COLUMNS, or None
    incidents: list[Incident] = field(default_factory=list)
    #: per-second HDR histograms (exact windowed percentiles); None in older run dirs
    latency_histograms: LatencyHistograms | None = None

    @property
    def aborted(self) -> bool:
        return self.meta.status == "aborted" or any(
            isinstance(e, RunAbortedEvent) for e in self.events
        )

    @property
    def abort_reason(self) -> str | None:
        if self.meta.abort_reason:
            return self.meta.abort_reason
        return next((e.reason for e in self.events if isinstance(e, RunAbortedEvent)), None)


def faults_from_journal(events: list[JournalEvent]) -> list[FaultWindow]:
    """Pair ``fault_injected`` with its ``fault_reverted``, in injection order.

    Only a revert that worked ends a fault; a failed one leaves it on (``revert_ok``
    False, ``revert_error``). A revert with ``source: "journal"`` (``spikekit chaos revert
    --all`` after the run) is not the run's: such a fault shows as never reverted by the
    run, its outcome in ``reverted_by_hand``.
    """
    injected: dict[str, FaultInjected] = {}
    reverted: dict[str, FaultReverted] = {}
    failed: dict[str, FaultReverted] = {}
    by_hand: dict[str, FaultReverted] = {}
    for event in events:
        if isinstance(event, FaultInjected):
            injected.setdefault(event.fault_id, event)
        elif isinstance(event, FaultReverted) and event.source == "journal":
            if event.ok:
                by_hand.setdefault(event.fault_id, event)
        elif isinstance(event, FaultReverted):
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
                reverted_by_hand=(hand.outcome or "reverted") if hand is not None else None,
            )
        )
    return sorted(windows, key=lambda w: w.injected_t)


def incidents_from_journal(run_dir: Path, events: list[JournalEvent]) -> list[Incident]:
    """The ``toolkit_incident`` events, with the players of the files their hole names."""
    incidents = []
    for event in events:
        if not isinstance(event, ToolkitIncident):
            continue
        players = None
        if event.records_lost_from_ts is not None and event.records_of:
            players = frozenset(players_in([run_dir / name for name in event.records_of]))
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


def _load_journal(run_dir: Path) -> list[JournalEvent]:
    try:
        return read_journal(need(run_dir / JOURNAL))
    except ChaosError as error:
        raise ConfigError(str(error)) from None


def load_run(run_dir: Path) -> RunData:
    """Load a run directory; raise :class:`ConfigError` naming the bad file."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: not a directory")
    meta = read_meta(run_dir)
    events = _load_journal(run_dir)
    slos, recovery = read_slos(run_dir)
    timeseries = frames.read_timeseries(run_dir)
    players = frames.read_players(run_dir)
    metrics = frames.read_metrics(run_dir)
    histograms = read_latency_histograms(run_dir)
    if histograms is None:
        logging.getLogger(__name__).info(
            "%s: no per-second latency histograms (a run of an older spikekit): windowed "
            "percentiles are request-weighted means of per-second percentiles",
            run_dir,
        )
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
        acked=frames.read_acked(run_dir),
        unacked=frames.read_unacked(run_dir),
        ledger=frames.read_ledger(run_dir),
        audit=frames.read_audit(run_dir),
        duration_s=max(last_t + 1, 0),
        payments=frames.read_payments(run_dir),
        incidents=incidents_from_journal(run_dir, events),
        latency_histograms=histograms,
    )
