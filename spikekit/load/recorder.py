"""The load recorder (runs in the Locust master): per-second rows from the workers' reports.

Workers report every run second (:class:`~spikekit.load.protocol.WorkerSecond`). A second
is *final* once every worker has reported it or a later one, or ``lateness_s`` after it
ended (a worker that died or lags does not hold the run up). Final seconds become rows —
per endpoint and ``"*"`` — their histograms are folded into the whole-run histograms and
dropped, so memory stays flat however long the run. A report arriving after its second
was final still counts in the requests and failures of that row (a row of its own when
the second had none for its endpoint) and of ``"*"``, and in the whole-run histograms (not in
that second's percentiles). Requests the workers report *cut* (a player killed with its
request out: the platform may have counted it, no answer was read) are kept apart, per
endpoint, for the whole run (:attr:`Recorder.cut`). Every final second's histogram of each
endpoint is also kept, sparse, until the master takes it for the run directory
(:meth:`Recorder.take_histograms`, ``latency_histograms.parquet``); a late report's
histogram is kept as one more row of its second (rows of a second add up). A worker the
master knows is gone (:meth:`Recorder.drop_worker`) is no longer waited for, and its last
player count is not carried into later seconds (else a re-spread of its users would be
counted twice).

Pure Python (hdrh, no Locust), so it is unit-tested directly; its rows and the ``second``
line it publishes are the run directory's (:mod:`spikekit.rundir.tables`,
:mod:`spikekit.rundir.live`), and :mod:`spikekit.load.outputs` writes them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hdrh.histogram import HdrHistogram

from spikekit.load import histograms as hdr
from spikekit.load.protocol import WorkerSecond
from spikekit.rundir.live import SecondSummary
from spikekit.rundir.second_histograms import SecondHistogram, sparse_counts
from spikekit.rundir.tables import ALL, GeneratorRow, PlayersRow, TimeseriesRow

MIB = 1024 * 1024


@dataclass
class _Accumulator:
    histogram: HdrHistogram = field(default_factory=hdr.new_histogram)
    requests: int = 0
    failures: int = 0
    generator_errors: int = 0


@dataclass(frozen=True)
class TrackingError:
    """How closely the actual players followed the target."""

    mean_abs: float  # mean |actual - target| per second
    max_abs: int
    relative: float  # sum |actual - target| / sum target (0 = perfect)
    seconds: int


def tracking_error(rows: list[PlayersRow], until_t: float | None = None) -> TrackingError:
    """Over the seconds before ``until_t`` (the shape's end) where anybody should or did play."""
    counted = [
        r
        for r in rows
        if (r.target_players > 0 or r.actual_players > 0) and (until_t is None or r.t < until_t)
    ]
    if not counted:
        return TrackingError(0.0, 0, 0.0, 0)
    errors = [abs(r.actual_players - r.target_players) for r in counted]
    total_target = sum(r.target_players for r in counted)
    relative = sum(errors) / total_target if total_target else math.inf
    return TrackingError(sum(errors) / len(errors), max(errors), relative, len(counted))


class Recorder:
    def __init__(
        self,
        target_players: Callable[[int], int],
        workers: list[str],
        *,
        lateness_s: float = 3.0,
    ) -> None:
        self.target_players = target_players
        self.workers = list(workers)
        self.lateness_s = lateness_s
        self._pending: dict[int, dict[str, _Accumulator]] = {}
        self._players: dict[int, dict[str, int]] = {}
        self._latest: dict[str, int] = {}
        self._last_players: dict[str, int] = {}
        self.final_through = -1
        self.timeseries: list[TimeseriesRow] = []
        self._row_at: dict[tuple[int, str], int] = {}
        self.players: list[PlayersRow] = []
        self.generator: list[GeneratorRow] = []
        self.totals: dict[str, HdrHistogram] = {}
        self.late_reports = 0
        #: per endpoint, requests cut over the run (sent, the player killed before the answer)
        self.cut: Counter[str] = Counter()
        self.lost: list[str] = []  # workers dropped (drop_worker), in order
        self._cpu_max: dict[int, float] = {}
        self._histograms: list[SecondHistogram] = []  # not yet taken by the master

    # --- input ---------------------------------------------------------------------------

    def add(self, report: WorkerSecond) -> None:
        if report.worker not in self.workers and report.worker not in self.lost:
            self.workers.append(report.worker)
        self._latest[report.worker] = max(self._latest.get(report.worker, -1), report.t)
        self._add_health(report.t, report.worker, report)
        self.cut.update(report.cut)
        if report.t <= self.final_through:
            self._add_late(report)
            return
        self._players.setdefault(report.t, {})[report.worker] = report.players
        seconds = self._pending.setdefault(report.t, {})
        for name, data in report.endpoints.items():
            acc = seconds.setdefault(name, _Accumulator())
            acc.requests += data.requests
            acc.failures += data.failures
            acc.generator_errors += data.generator_errors
            if data.histogram:
                acc.histogram.add(hdr.decode(data.histogram))

    @property
    def cut_requests(self) -> int:
        """Requests cut over the run: sent (the platform may have counted them), never
        recorded as requests (no answer was read)."""
        return sum(self.cut.values())

    def add_master_sample(self, t: int, cpu_percent: float, rss_bytes: int) -> None:
        self._cpu_max[t] = max(self._cpu_max.get(t, 0.0), cpu_percent)
        self.generator.append(GeneratorRow(t, "generator_cpu_percent", "master", cpu_percent))
        self.generator.append(GeneratorRow(t, "generator_rss_mib", "master", rss_bytes / MIB))

    def _add_health(self, t: int, node: str, report: WorkerSecond) -> None:
        errors = sum(e.generator_errors for e in report.endpoints.values())
        self._cpu_max[t] = max(self._cpu_max.get(t, 0.0), report.cpu_percent)
        self.generator.extend(
            [
                GeneratorRow(t, "generator_cpu_percent", node, report.cpu_percent),
                GeneratorRow(t, "generator_rss_mib", node, report.rss_bytes / MIB),
                GeneratorRow(t, "generator_users", node, float(report.users)),
                GeneratorRow(t, "generator_errors", node, float(errors)),
            ]
        )

    def _add_late(self, report: WorkerSecond) -> None:
        """A report for a second already final: its counts go into that second's rows (a
        row of its own for an endpoint the second did not have yet), its latencies into the
        whole-run histograms."""
        self.late_reports += 1
        t = report.t
        for name, data in report.endpoints.items():
            histogram = hdr.decode(data.histogram) if data.histogram else None
            index = self._row_at.get((t, name))
            if index is None:  # percentiles of its own: nothing else of it in that second
                acc = _Accumulator(requests=data.requests, failures=data.failures)
                if histogram is not None:
                    acc.histogram.add(histogram)
                self._row(t, name, acc)
            else:
                self.timeseries[index].requests += data.requests
                self.timeseries[index].failures += data.failures
            star = self.timeseries[self._row_at[(t, ALL)]]
            star.requests += data.requests
            star.failures += data.failures
            if histogram is not None:
                self._total(name).add(histogram)
                self._total(ALL).add(histogram)
                self._keep(t, name, histogram)

    def drop_worker(self, worker: str) -> bool:
        """A worker is gone (killed, lost): stop waiting for its seconds and stop counting
        its players (its last report must not stay in the actual players). A report of it
        arriving later still counts in the requests. Returns whether it was known."""
        if worker not in self.workers:
            return False
        self.workers.remove(worker)
        self._last_players.pop(worker, None)
        self.lost.append(worker)
        return True

    def last_reported(self, worker: str) -> int:
        """The last second ``worker`` reported (-1: none)."""
        return self._latest.get(worker, -1)

    def all_reported(self, t: int) -> bool:
        """Whether every worker has reported second ``t`` or a later one."""
        return bool(self.workers) and all(self._latest.get(w, -1) >= t for w in self.workers)

    # --- finalisation ----------------------------------------------------------------------

    def _ready_through(self, elapsed_s: float) -> int:
        """The last second that may be final at run time ``elapsed_s``."""
        by_lateness = math.floor(elapsed_s - 1.0 - self.lateness_s)
        if not self.workers or any(w not in self._latest for w in self.workers):
            return by_lateness
        return max(by_lateness, min(self._latest[w] for w in self.workers))

    def due(self, elapsed_s: float) -> list[SecondSummary]:
        """Seconds that became final by run time ``elapsed_s`` (in order)."""
        return self._finalize_through(self._ready_through(elapsed_s))

    def finish(self, last_t: int | None = None) -> list[SecondSummary]:
        """Finalise everything up to ``last_t`` (default: the last second reported)."""
        through = max([self.final_through, *self._pending]) if last_t is None else last_t
        return self._finalize_through(through)

    def _finalize_through(self, through: int) -> list[SecondSummary]:
        summaries = []
        for t in range(self.final_through + 1, through + 1):
            summaries.append(self._finalize(t))
            self.final_through = t
        return summaries

    def _keep(self, t: int, endpoint: str, histogram: HdrHistogram) -> None:
        if histogram.get_total_count() > 0:
            buckets, counts = sparse_counts(np.ctypeslib.as_array(histogram.counts))
            self._histograms.append(SecondHistogram(t, endpoint, buckets, counts))

    def take_histograms(self) -> list[SecondHistogram]:
        """The per-second histograms kept since the last call (each endpoint, never
        ``"*"``: the file adds the endpoints up), handed over once."""
        taken, self._histograms = self._histograms, []
        return taken

    def _total(self, endpoint: str) -> HdrHistogram:
        if endpoint not in self.totals:
            self.totals[endpoint] = hdr.new_histogram()
        return self.totals[endpoint]

    def _row(self, t: int, endpoint: str, acc: _Accumulator) -> TimeseriesRow:
        p = hdr.percentiles(acc.histogram)
        row = TimeseriesRow(t, endpoint, acc.requests, acc.failures, *p)
        self._row_at[(t, endpoint)] = len(self.timeseries)
        self.timeseries.append(row)
        return row

    def _finalize(self, t: int) -> SecondSummary:
        seconds = self._pending.pop(t, {})
        everything = _Accumulator()
        endpoints: dict[str, tuple[int, int, float]] = {}
        quantiles: dict[str, tuple[float, float]] = {}  # name → (p50, p99)
        for name in sorted(seconds):
            acc = seconds[name]
            everything.requests += acc.requests
            everything.failures += acc.failures
            everything.generator_errors += acc.generator_errors
            everything.histogram.add(acc.histogram)
            self._total(name).add(acc.histogram)
            self._keep(t, name, acc.histogram)
            row = self._row(t, name, acc)
            endpoints[name] = (row.requests, row.failures, row.p95_ms)
            quantiles[name] = (row.p50_ms, row.p99_ms)
        self._total(ALL).add(everything.histogram)
        star = self._row(t, ALL, everything)

        reported = self._players.pop(t, {})
        for worker, players in reported.items():
            if worker in self.workers:
                self._last_players[worker] = players
        # who reported this second, plus the last count of each worker still in the run that
        # did not (a lagging worker); a dropped worker's last count is never carried on
        actual = sum(reported.values()) + sum(
            self._last_players.get(w, 0) for w in self.workers if w not in reported
        )
        target = self.target_players(t)
        self.players.append(PlayersRow(t, target, actual))
        return SecondSummary(
            t=t,
            target_players=target,
            actual_players=actual,
            requests=star.requests,
            failures=star.failures,
            generator_errors=everything.generator_errors,
            p50_ms=star.p50_ms,
            p95_ms=star.p95_ms,
            p99_ms=star.p99_ms,
            max_ms=star.max_ms,
            generator_cpu_max=self._cpu_max.pop(t, 0.0),
            endpoints=endpoints,
            endpoint_quantiles=quantiles,
        )
