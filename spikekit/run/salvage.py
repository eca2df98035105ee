"""Salvage a run whose process died: the recoveries of :mod:`spikekit.rundir`, in order.

A killed ``spikekit run`` leaves its start-of-run files and the load's working files, none
of those written at the end. :func:`salvage` (``spikekit report``) **creates only files that
are missing**: the per-second tables from ``load/live.jsonl``, the merged acknowledgements,
the platform metrics from their parts, then completes ``meta.json``. What each cannot give
back: ``docs/run-directory.md`` ("A run that was killed").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spikekit.chaos.revert import active_faults
from spikekit.errors import ChaosError, ConfigError
from spikekit.rundir import acks, metrics, tables
from spikekit.rundir import layout as names
from spikekit.rundir.journal import FaultReverted, ToolkitIncident, read_journal
from spikekit.rundir.live import LiveLog, read_live_file, writer_pid
from spikekit.rundir.meta import complete_meta, read_meta_or_none

UNKNOWN_PERCENTILES = "per-endpoint p50/p99/max"  # not in live.jsonl: said and printed
UNKNOWN = f" ({UNKNOWN_PERCENTILES} unknown)"
LIVE, PARTS, METRICS = names.LIVE, names.PLATFORM_METRICS_PARTS, names.PLATFORM_METRICS
Say = Callable[[str], None]


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


def _live_log(run_dir: Path, missing: list[str]) -> LiveLog:
    """``load/live.jsonl`` of a run to salvage; ConfigError when it cannot be salvaged."""
    live, what = run_dir / LIVE, ", ".join(missing)
    if not live.is_file():
        raise ConfigError(
            f"{run_dir}: the run process ended before writing its results and nothing can "
            f"rebuild them: {what} and {LIVE} are missing (did the run end before its load "
            "started?)"
        )
    if (pid := writer_pid(live)) is not None:
        raise ConfigError(
            f"{run_dir}: the run is still going (its load master, PID {pid}, writes {LIVE}); "
            "report it once it has ended"
        )
    log = read_live_file(live)
    if not log.seconds:
        raise ConfigError(
            f"{run_dir}: {what} missing and {LIVE} holds no recorded second "
            "(the run died before its first second): nothing to report"
        )
    return log


def salvage(run_dir: Path, say: Say = lambda _: None) -> Salvage | None:
    """Rebuild the missing results of an aborted run whose process died (``ended_at``
    null) or that could not write them; None when there is nothing to rebuild (a completed
    run's missing files are not ours). Raises :class:`ConfigError` naming what is missing
    when nothing can rebuild them, and when the run's load master is still running."""
    run_dir = Path(run_dir)
    meta = read_meta_or_none(run_dir)
    missing = [n for n in (names.TIMESERIES, names.PLAYERS) if not (run_dir / n).is_file()]
    if meta is None or meta.status != "aborted" or not missing:
        return None
    log = _live_log(run_dir, missing)
    say(f"the run process ended without writing its results: salvaging from {LIVE}")
    try:
        events = read_journal(run_dir / names.JOURNAL)
    except ChaosError as error:
        raise ConfigError(str(error)) from None
    say(f"{LIVE}: {len(log.seconds)} s of data (t = {log.seconds[0].t}..{log.seconds[-1].t})")

    from_live = tables.recover_from_live(run_dir, log.seconds)
    from_acks = acks.recover_merged(run_dir)
    set_aside = [METRICS] if metrics.set_aside_unclosed(run_dir) else []
    parts = metrics.recover_from_parts(run_dir)
    from_parts = [METRICS] if parts is not None else []
    for line in (
        *(f"rebuilt {name} from {LIVE}" for name in from_live),
        *(f"rebuilt {name} from {pattern}" for name, pattern in from_acks),
        *(f"{n} was never closed (unreadable): renamed {n}{names.TORN}" for n in set_aside),
        *(f"rebuilt {n} from {parts} part file(s) of {PARTS}/" for n in from_parts),
    ):
        say(line)
    unknown = names.TIMESERIES in from_live  # per-endpoint percentiles are not in live.jsonl
    rebuilt = [
        *([f"per-second data rebuilt from {LIVE}" + UNKNOWN * unknown] if from_live else []),
        *(["acknowledgements merged from the workers' files"] if from_acks else []),
        *([f"platform metrics merged from {PARTS}/ (up to their last flush)"] * len(from_parts)),
        *(f"platform metrics lost ({n} never closed)" for n in set_aside),
    ]
    # about when it died: its last second or its last own event (a revert --all is not)
    own = [e.t for e in events if not (isinstance(e, FaultReverted) and e.source == "journal")]
    end_t = max([float(log.seconds[-1].t + 1), *own])
    died = f"the run process ended without writing its results (killed?) at t≈{end_t:.0f} s"
    stops = [e for e in events if isinstance(e, ToolkitIncident) and e.kind != "worker_lost"]
    if stops:
        died = (
            f"{stops[0].detail} (the run could not write its results; it ended at t≈{end_t:.0f} s)"
        )
    started_at = log.started_at if log.started_at is not None else meta.started_at
    ended_at, reason = started_at + end_t, "; ".join([died, *rebuilt])
    if meta.ended_at is not None:  # the run ended itself, aborted: keep what it said
        ended_at, reason = meta.ended_at, "; ".join([meta.abort_reason or "aborted", *rebuilt])
    complete_meta(run_dir, started_at, ended_at, reason)
    say(f"{names.META}: marked aborted, ended at t≈{end_t:.0f} s")
    not_rebuilt = [
        *([f"{UNKNOWN_PERCENTILES} of each second (NaN)"] if unknown else []),
        f"{names.HISTOGRAMS} (whole-run histograms)",
        f"the wallet audit ({names.AUDIT} and the ledger export are taken after the run)",
        *(f"platform metrics ({n} never closed)" for n in set_aside),
    ]
    return Salvage(
        run_dir=run_dir,
        end_t=end_t,
        seconds=len(log.seconds),
        rebuilt=(*from_live, *(name for name, _ in from_acks), *from_parts),
        set_aside=tuple(set_aside),
        not_rebuilt=tuple(not_rebuilt),
        faults_still_on=tuple(f.fault_id for f in active_faults(events)),
        torn_last_line=log.torn_last_line,
        skipped_lines=log.skipped_lines,
        abort_reason=reason,
        ended_itself=meta.ended_at is not None,
    )
