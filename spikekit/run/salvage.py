"""Salvage a run whose process died: rebuild its missing results from the working files.

A ``spikekit run`` that is SIGKILLed (or whose machine stops) leaves ``meta.json`` as it
was written at the start (``status: aborted``, ``ended_at: null``), ``scenario.yaml``,
``journal.jsonl`` and the load engine's working files under ``load/``, but none of the
files written at the end. :func:`salvage` (called by ``spikekit report``) rebuilds what
the working files hold, **creating only files that are missing**:

============================== ================================ ===============================
file                           from                             not known, left out or NaN
============================== ================================ ===============================
``timeseries.parquet``         ``load/live.jsonl`` (``second``) per-endpoint p50/p99/max (NaN)
``players.parquet``            ``load/live.jsonl``
``generator.parquet``          ``load/live.jsonl``              per process: one ``node=all``
                                                                series (highest CPU, errors)
``acked_transactions.jsonl``   ``load/acks-worker-N.jsonl``
``unacked_transactions.jsonl`` ``load/unacked-worker-N.jsonl``
``platform_metrics.parquet``   ``platform_metrics.parts/``      the seconds after the last
                                                                flush (at most 10)
============================== ================================ ===============================

Never rebuilt: ``histograms.json`` (the workers' histograms never reached a file), the
platform's audit and exports (they are taken after the run). A ``platform_metrics.parquet``
whose writer was never closed (runs of spikekit before the part files) has no footer and
cannot be read: it is renamed ``platform_metrics.parquet.torn`` (bytes kept). Last,
``meta.json`` gets what the run would have written at its end: ``started_at`` of the
load's t = 0, an estimated ``ended_at`` and an ``abort_reason`` that says the results were
salvaged and from what.
Everything else of ``meta.json`` stays as it was.

:func:`parse_live`, the ``*_table`` functions, :func:`run_end_t` and :func:`abort_reason`
are pure (text or records in, tables or text out); :func:`salvage` does the I/O.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from spikekit.analysis import rundir as files
from spikekit.analysis.rundir import RunMeta
from spikekit.chaos.journal import FaultReverted, JournalEvent, ToolkitIncident, read_journal
from spikekit.chaos.revert import active_faults
from spikekit.errors import ChaosError, ConfigError
from spikekit.load.acks import merge_ack_files
from spikekit.load.outputs import (
    GENERATOR_SCHEMA,
    GENERATOR_SERVICE,
    PLAYERS_SCHEMA,
    TIMESERIES_SCHEMA,
)
from spikekit.load.recorder import ALL, SecondSummary
from spikekit.telemetry.recorder import PARTS_DIR, merge_parts

__all__ = ["LIVE", "LiveLog", "Salvage", "parse_live", "rebuild_from_live", "salvage"]

LIVE = "load/live.jsonl"
ACKS = "load/acks-worker-*.jsonl"
UNACKED = "load/unacked-worker-*.jsonl"
TORN = ".torn"
#: What the salvaged per-second data does not hold; said in the abort reason and printed.
UNKNOWN_PERCENTILES = "per-endpoint p50/p99/max"
GENERATOR_LABELS = "node=all"

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# --- load/live.jsonl ---------------------------------------------------------------------


@dataclass(frozen=True)
class LiveLog:
    """What the Locust master told the runner before it died (``load/live.jsonl``)."""

    started_at: float | None  # Unix time of the load's t = 0 (the ``started`` line)
    seconds: tuple[SecondSummary, ...]  # the ``second`` lines, in order
    ended: bool  # an ``ended`` line: the master got to write its own files
    torn_last_line: bool  # the last line was cut short (a kill mid-write): skipped
    skipped_lines: int  # complete lines that were not a readable event


def parse_live(text: str) -> LiveLog:
    """Read ``live.jsonl``; a last line without its newline is a torn write and skipped."""
    lines = text.split("\n")
    torn = lines.pop() != ""  # text ending in "\n" leaves "" after the last complete line
    started_at: float | None = None
    seconds: dict[int, SecondSummary] = {}
    ended = False
    skipped = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            event = data.get("event")
            if event == "started":
                started_at = float(data["started_at"])
            elif event == "second":
                second = SecondSummary.from_json(data)
                seconds.setdefault(second.t, second)
            elif event == "ended":
                ended = True
        except (ValueError, KeyError, TypeError, IndexError):
            skipped += 1
    ordered = tuple(seconds[t] for t in sorted(seconds))
    return LiveLog(started_at, ordered, ended, torn, skipped)


# --- the tables ---------------------------------------------------------------------------


def timeseries_table(seconds: Sequence[SecondSummary]) -> pa.Table:
    """``timeseries.parquet``: per second, each endpoint that had requests, then ``"*"``.

    ``live.jsonl`` has only the p95 of each endpoint: its p50, p99 and max are NaN.
    """
    nan = math.nan
    rows: list[tuple[int, str, int, int, float, float, float, float]] = []
    for s in seconds:
        for name in sorted(s.endpoints):
            requests, failures, p95 = s.endpoints[name]
            rows.append((s.t, name, requests, failures, nan, p95, nan, nan))
        rows.append((s.t, ALL, s.requests, s.failures, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms))
    names: list[str] = TIMESERIES_SCHEMA.names
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    return pa.table(columns, schema=TIMESERIES_SCHEMA)


def players_table(seconds: Sequence[SecondSummary]) -> pa.Table:
    return pa.table(
        {
            "t": [s.t for s in seconds],
            "target_players": [s.target_players for s in seconds],
            "actual_players": [s.actual_players for s in seconds],
        },
        schema=PLAYERS_SCHEMA,
    )


def generator_table(seconds: Sequence[SecondSummary]) -> pa.Table:
    """``generator.parquet`` from what the master summed up each second: the highest CPU of
    any generator process and the generator errors of all, as one ``node=all`` series."""
    rows: list[tuple[int, str, float]] = []
    for s in seconds:
        rows.append((s.t, "generator_cpu_percent", s.generator_cpu_max))
        rows.append((s.t, "generator_errors", float(s.generator_errors)))
    return pa.table(
        {
            "t": [r[0] for r in rows],
            "service": [GENERATOR_SERVICE] * len(rows),
            "metric": [r[1] for r in rows],
            "labels": [GENERATOR_LABELS] * len(rows),
            "value": [r[2] for r in rows],
        },
        schema=GENERATOR_SCHEMA,
    )


# --- when it died, and what to say -----------------------------------------------------------


def run_end_t(log: LiveLog, events: Sequence[JournalEvent]) -> float:
    """About when the run died: its last recorded second or its last own journal event
    (a ``chaos revert --all`` afterwards is not the run's)."""
    ends = [float(log.seconds[-1].t + 1)] if log.seconds else [0.0]
    ends += [e.t for e in events if not (isinstance(e, FaultReverted) and e.source == "journal")]
    return max(ends)


def abort_reason(
    end_t: float, from_live: Sequence[str], notes: Sequence[str], cause: str | None = None
) -> str:
    """The ``abort_reason`` of a salvaged run: it died, when, which figures were rebuilt.
    ``cause``: what the journal says stopped it (a ``toolkit_incident``: the disk full...)."""
    parts = [f"the run process ended without writing its results (killed?) at t≈{end_t:.0f} s"]
    if cause:
        parts = [f"{cause} (the run could not write its results; it ended at t≈{end_t:.0f} s)"]
    if from_live:
        unknown = f" ({UNKNOWN_PERCENTILES} unknown)" if files.TIMESERIES in from_live else ""
        parts.append(f"per-second data rebuilt from {LIVE}{unknown}")
    return "; ".join([*parts, *notes])


# --- the entry point -----------------------------------------------------------------------


@dataclass(frozen=True)
class Salvage:
    """What :func:`salvage` did to a run directory."""

    run_dir: Path
    end_t: float  # about when the run died (s since t = 0)
    seconds: int  # seconds of per-second data rebuilt
    rebuilt: tuple[str, ...]  # files created
    set_aside: tuple[str, ...]  # unreadable files renamed *.torn
    not_rebuilt: tuple[str, ...]  # what the working files cannot give back
    faults_still_on: tuple[str, ...]  # injected, and reverted neither by the run nor after
    torn_last_line: bool
    skipped_lines: int
    abort_reason: str
    #: The run ended by itself, aborted (disk full, master lost), rather than being killed.
    ended_itself: bool = False


def _read_meta(path: Path) -> RunMeta | None:
    try:
        return RunMeta.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None  # load_run names the problem


def missing_results(run_dir: Path, meta: RunMeta | None) -> list[str]:
    """The required files an aborted run is missing: its process died (``ended_at`` still
    null), or it ended early because its own files could not be written (disk full, the
    Locust master lost); [] for a completed run (its missing files are not ours to
    rebuild) or one that has them."""
    if meta is None or meta.status != "aborted":
        return []
    return [n for n in (files.TIMESERIES, files.PLAYERS) if not (run_dir / n).is_file()]


def load_master_pid(live: Path) -> int | None:
    """The PID of a live process writing ``live`` (its ``--live`` argument): a Locust
    master still running, so the run has not died."""
    target = live.resolve()
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            args = [a for a in (proc.info["cmdline"] or []) if a.endswith("live.jsonl")]
            if any(Path(proc.cwd(), a).resolve() == target for a in args):
                return int(proc.info["pid"])
        except psutil.Error:
            continue
    return None


def _create(path: Path, write: Callable[[Path], object]) -> bool:
    """Write ``path`` through a partial file and a hard link: never replaces a file that
    appeared meanwhile. Returns whether it was created."""
    partial = path.with_name(path.name + ".salvage")
    try:
        write(partial)
        os.link(partial, path)
    except FileExistsError:
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path)


def _parquet_readable(path: Path) -> bool:
    try:
        pq.ParquetFile(path)
    except Exception:  # pyarrow raises several unrelated types for a file without footer
        return False
    return True


def _complete_meta(path: Path, started_at: float, ended_at: float, reason: str) -> None:
    """Set what the run would have written at its end; every other key stays as it was."""
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(started_at=started_at, ended_at=ended_at, status="aborted", abort_reason=reason)
    tmp = path.with_name(path.name + ".salvage")
    tmp.write_text(json.dumps(document, indent=2), encoding="utf-8")
    tmp.replace(path)


def _rebuild_from_live(run_dir: Path, log: LiveLog, say: Say) -> list[str]:
    tables = {
        files.TIMESERIES: timeseries_table(log.seconds),
        files.PLAYERS: players_table(log.seconds),
        files.GENERATOR: generator_table(log.seconds),
    }
    rebuilt = []
    for name, table in tables.items():
        if _create(run_dir / name, functools.partial(_write_parquet, table)):
            rebuilt.append(name)
            say(f"rebuilt {name} from {LIVE}")
    return rebuilt


def _merge_acks(run_dir: Path, say: Say) -> list[str]:
    """What the runner does at the end: the workers' ack files merged by time."""
    rebuilt = []
    for name, pattern in ((files.ACKED, ACKS), (files.UNACKED, UNACKED)):
        sources = sorted(run_dir.glob(pattern))
        if not sources or (run_dir / name).exists():
            continue
        if _create(run_dir / name, functools.partial(merge_ack_files, sources)):
            rebuilt.append(name)
            say(f"rebuilt {name} from {pattern}")
    return rebuilt


def _set_aside_unclosed_metrics(run_dir: Path, say: Say) -> list[str]:
    """A ``platform_metrics.parquet`` without its footer cannot be read: renamed ``*.torn``."""
    metrics = run_dir / files.PLATFORM_METRICS
    torn = metrics.with_name(metrics.name + TORN)
    if not metrics.is_file() or _parquet_readable(metrics) or torn.exists():
        return []
    metrics.rename(torn)
    say(f"{metrics.name} was never closed (unreadable): renamed {torn.name}")
    return [metrics.name]


def _merge_metric_parts(run_dir: Path, say: Say) -> list[str]:
    """``platform_metrics.parquet`` from the recorder's part files, when it is missing."""
    parts = run_dir / PARTS_DIR
    if not parts.is_dir():
        return []
    metrics = run_dir / files.PLATFORM_METRICS
    if metrics.is_file():  # merged before the kill; only the parts were left
        shutil.rmtree(parts, ignore_errors=True)
        return []
    count = merge_parts(parts, metrics)
    say(f"rebuilt {metrics.name} from {count} part file(s) of {PARTS_DIR}/")
    return [metrics.name]


def rebuild_from_live(run_dir: Path, say: Say = _quiet) -> list[str]:
    """The per-second files the Locust master did not write (it died, or the disk was
    full), rebuilt from ``load/live.jsonl`` by the run itself; the names created."""
    run_dir = Path(run_dir)
    live = run_dir / LIVE
    if not live.is_file() or all(
        (run_dir / n).is_file() for n in (files.TIMESERIES, files.PLAYERS)
    ):
        return []
    log = parse_live(live.read_text(encoding="utf-8", errors="replace"))
    return _rebuild_from_live(run_dir, log, say) if log.seconds else []


def salvage(run_dir: Path, say: Say = _quiet) -> Salvage | None:
    """Rebuild the missing results of a run whose process died; None when it did not.

    Raises :class:`ConfigError` naming what is missing when nothing can rebuild them, and
    when the run's load master is still running.
    """
    run_dir = Path(run_dir)
    meta = _read_meta(run_dir / files.META)
    missing = missing_results(run_dir, meta)
    if meta is None or not missing:
        return None
    live = run_dir / LIVE
    if not live.is_file():
        raise ConfigError(
            f"{run_dir}: the run process ended before writing its results and nothing can "
            f"rebuild them: {', '.join(missing)} and {LIVE} are missing "
            "(did the run end before its load started?)"
        )
    pid = load_master_pid(live)
    if pid is not None:
        raise ConfigError(
            f"{run_dir}: the run is still going (its load master, PID {pid}, writes {LIVE}); "
            "report it once it has ended"
        )
    say(f"the run process ended without writing its results: salvaging from {LIVE}")
    log = parse_live(live.read_text(encoding="utf-8", errors="replace"))
    if not log.seconds:
        raise ConfigError(
            f"{run_dir}: {', '.join(missing)} missing and {LIVE} holds no recorded second "
            "(the run died before its first second): nothing to report"
        )
    try:
        events = read_journal(run_dir / files.JOURNAL)
    except ChaosError as error:
        raise ConfigError(str(error)) from None
    say(f"{LIVE}: {len(log.seconds)} s of data (t = {log.seconds[0].t}..{log.seconds[-1].t})")

    from_live = _rebuild_from_live(run_dir, log, say)
    from_acks = _merge_acks(run_dir, say)
    set_aside = _set_aside_unclosed_metrics(run_dir, say)
    from_parts = _merge_metric_parts(run_dir, say)
    notes: list[str] = []
    if from_acks:
        notes.append("acknowledgements merged from the workers' files")
    if from_parts:
        notes.append(f"platform metrics merged from {PARTS_DIR}/ (up to their last flush)")
    if set_aside:
        notes.append(f"platform metrics lost ({files.PLATFORM_METRICS} never closed)")

    end_t = run_end_t(log, events)
    stops = [e for e in events if isinstance(e, ToolkitIncident) and e.kind != "worker_lost"]
    reason = abort_reason(end_t, from_live, notes, stops[0].detail if stops else None)
    started_at = log.started_at if log.started_at is not None else meta.started_at
    ended_at = started_at + end_t
    if meta.ended_at is not None:  # the run ended itself, aborted: keep what it said
        ended_at, rebuilt_from = meta.ended_at, reason.split("; ", 1)[1:]
        reason = "; ".join([meta.abort_reason or "aborted", *rebuilt_from])
    _complete_meta(run_dir / files.META, started_at, ended_at, reason)
    say(f"{files.META}: marked aborted, ended at t≈{end_t:.0f} s")
    not_rebuilt = [
        "histograms.json (whole-run histograms)",
        "the wallet audit (audit.json and the ledger export are taken after the run)",
    ]
    if files.TIMESERIES in from_live:
        not_rebuilt.insert(0, f"{UNKNOWN_PERCENTILES} of each second (NaN)")
    if set_aside:
        not_rebuilt.append(f"platform metrics ({files.PLATFORM_METRICS} never closed)")
    return Salvage(
        run_dir=run_dir,
        end_t=end_t,
        seconds=len(log.seconds),
        rebuilt=(*from_live, *from_acks, *from_parts),
        set_aside=tuple(set_aside),
        not_rebuilt=tuple(not_rebuilt),
        faults_still_on=tuple(f.fault_id for f in active_faults(events)),
        torn_last_line=log.torn_last_line,
        skipped_lines=log.skipped_lines,
        abort_reason=reason,
        ended_itself=meta.ended_at is not None,
    )
