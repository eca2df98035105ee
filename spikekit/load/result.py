"""What a load run hands back: status, files, totals and the tracking error."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from spikekit.load.recorder import TrackingError, tracking_error
from spikekit.rundir.tables import ALL, read_players, read_timeseries


class LoadStatus(StrEnum):
    COMPLETED = "completed"  # the shape ran to its end
    STOPPED = "stopped"  # stop() was called (stop condition, Ctrl-C)
    ABORTED = "aborted"  # the master failed or the hard deadline killed the run


class IncidentKind(StrEnum):
    """A fault of the toolkit itself during a run (never the platform's)."""

    WORKER_LOST = "worker_lost"  # a Locust worker died or stopped answering
    MASTER_LOST = "master_lost"  # the Locust master died
    DISK_FULL = "disk_full"  # the run folder's disk is full: files cannot be written
    WRITE_FAILED = "write_failed"  # a file of the run could not be written
    TOXIPROXY_LOST = "toxiproxy_lost"  # the Toxiproxy server died


@dataclass(frozen=True)
class GeneratorIncident:
    """What went wrong with the toolkit, when, and whether its records have a hole.

    ``records_lost_from_ts`` (Unix time; None: no hole) is the earliest moment from which
    transactions may have been applied by the platform without the load engine keeping a
    record of them. ``records_of`` names the files (relative to the run directory) of the
    process whose records have the hole: its players are the ones concerned; empty with a
    hole: every player.
    """

    t: float  # seconds since t = 0, when it was noticed
    kind: IncidentKind
    subject: str  # e.g. worker-1, load-master, toxiproxy, the run folder
    detail: str
    records_lost_from_ts: float | None = None
    records_of: tuple[str, ...] = ()

    def text(self) -> str:
        return f"t={self.t:.0f} s: {self.detail}"


@dataclass(frozen=True)
class LoadTotals:
    requests: int = 0
    failures: int = 0
    seconds: int = 0
    peak_actual_players: int = 0
    peak_target_players: int = 0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class LoadResult:
    status: LoadStatus
    reason: str | None
    started_at: float | None
    ended_at: float
    workers: int
    run_dir: Path
    acked_transactions: int = 0
    totals: LoadTotals = field(default_factory=LoadTotals)
    tracking: TrackingError = field(default_factory=lambda: TrackingError(0.0, 0, 0.0, 0))
    killed: list[str] = field(default_factory=list)  # processes the hard deadline killed
    warnings: list[str] = field(default_factory=list)
    incidents: list[GeneratorIncident] = field(default_factory=list)
    #: requests sent whose player was killed before the answer (Locust's stop after
    #: ``stop_timeout``, a worker's quit): the platform may have received them; not in totals
    cut_requests: int = 0


def read_totals(run_dir: Path, until_t: float | None = None) -> tuple[LoadTotals, TrackingError]:
    """Totals and tracking error from the files the master wrote (zeros when missing)."""
    rows, series = read_players(run_dir), read_timeseries(run_dir, ALL)
    if rows is None or series is None:
        return LoadTotals(), tracking_error([])
    totals = LoadTotals(
        requests=sum(int(r.requests) for r in series),
        failures=sum(int(r.failures) for r in series),
        seconds=len(series),
        peak_actual_players=max((r.actual_players for r in rows), default=0),
        peak_target_players=max((r.target_players for r in rows), default=0),
    )
    return totals, tracking_error(rows, until_t)
