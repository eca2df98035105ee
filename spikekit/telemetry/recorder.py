"""The platform recorder: every service's ``/metrics`` and every stack process, once a second.

Runs on its own thread in the orchestrating process (no gevent here) and
writes ``platform_metrics.parquet`` in the long format of docs/run-directory.md:
``t, service, metric, labels, value`` (the file, its part files and their recovery are
:mod:`spikekit.rundir.metrics`'s). Every ``flush_every_s`` seconds the rows so far go to a
closed part file under ``platform_metrics.parts/``, so that a run killed mid-way keeps its
metrics up to the last flush; :meth:`stop` merges the parts into the one file.
A target that does not answer in time gets ``up = 0`` for that second. Of HAProxy's
exporter only the series :mod:`.selection` names are kept as raw rows. A part that cannot
be written (disk full) keeps its rows in memory for the next flush; :attr:`write_error`
says what failed, and :meth:`stop` never raises for it (the parts written so far stay).
With a :class:`~spikekit.telemetry.promql.PromqlFeed` the scenario's PromQL queries are
evaluated in the same second on the same thread pool, their rows in the same file;
:meth:`latest` is the last second taken (:mod:`.latest`), for the live stop conditions.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pyarrow as pa

from spikekit.processes import ProcessRef
from spikekit.rundir.layout import PLATFORM_METRICS, TMP, with_suffix
from spikekit.rundir.metrics import METRICS_SCHEMA, merge_parts, metrics_path, parts_dir, write_part
from spikekit.scenarios.telemetry import NamedQuery
from spikekit.telemetry.aliases import aliases_for
from spikekit.telemetry.latest import LatestSecond, tick_rows
from spikekit.telemetry.prometheus import LabelKey, Snapshot, label_text, parse, per_second
from spikekit.telemetry.promql import Outcome, PromqlFeed
from spikekit.telemetry.selection import keep

SCHEMA = METRICS_SCHEMA
__all__ = ["SCHEMA", "PlatformRecorder", "ScrapeTarget", "WatchedProcess", "merge_parts"]


@dataclass(frozen=True)
class ScrapeTarget:
    """One process serving ``/metrics``: its service and, for replicas, its instance name."""

    service: str
    url: str
    instance: str | None = None


#: services whose work is done by the children of the watched process (PostgreSQL's
#: backends): their CPU is also recorded for the whole tree, ``process_tree_cpu_percent``
TREE_SERVICES = frozenset({"postgres"})
CHILDREN_EVERY_S = 5


@dataclass(frozen=True)
class WatchedProcess:
    """A stack process whose CPU and memory are recorded."""

    service: str
    ref: ProcessRef

    @property
    def counts_children(self) -> bool:
        return self.service in TREE_SERVICES


Row = tuple[int, str, str, str, float]


class PlatformRecorder:
    def __init__(
        self,
        run_dir: Path,
        targets: Sequence[ScrapeTarget],
        processes: Sequence[WatchedProcess] = (),
        *,
        started_at: float | None = None,
        interval_s: float = 1.0,
        timeout_s: float = 0.8,
        flush_every_s: int = 10,
        feed: PromqlFeed | None = None,
    ) -> None:
        self.path = metrics_path(run_dir)
        self.parts = parts_dir(run_dir)
        self.targets = list(targets)
        self.processes = list(processes)
        self.started_at = started_at if started_at is not None else time.time()
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.flush_every_s = flush_every_s
        self.feed = feed
        self._tick: list[tuple[str, str, LabelKey, float]] = []
        self._latest: LatestSecond | None = None
        self._latest_lock = threading.Lock()
        self._previous: dict[ScrapeTarget, tuple[float, Snapshot]] = {}
        self._psutil: dict[ProcessRef, psutil.Process] = {}
        self._children: dict[ProcessRef, dict[int, psutil.Process]] = {}
        self._children_age: dict[ProcessRef, int] = {}
        self._rows: list[Row] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._parts_written = 0
        self._started = False
        self.seconds_recorded = 0
        self.write_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> PlatformRecorder:
        self.parts.mkdir(parents=True, exist_ok=True)
        self._started = True
        self._thread = threading.Thread(target=self._loop, name="platform-recorder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop scraping and write the file; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._started:
            self._flush()
            if self.write_error is None:
                try:
                    merge_parts(self.parts, self.path)
                except OSError as error:
                    self._failed(error)
                    with_suffix(self.path, TMP).unlink(missing_ok=True)
            self._started = False

    def _failed(self, error: OSError) -> None:
        self.write_error = self.write_error or (
            f"cannot write {PLATFORM_METRICS}: {error.strerror or error}"
        )

    def __enter__(self) -> PlatformRecorder:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- the loop --------------------------------------------------------------------

    def latest(self) -> LatestSecond | None:
        """The rows of the last second taken (None before the first); thread-safe."""
        with self._latest_lock:
            return self._latest

    def _loop(self) -> None:
        queries = self.feed.queries if self.feed is not None else []
        workers = min(16, max(1, len(self.targets) + len(queries)))
        with (
            httpx.Client(timeout=self.timeout_s) as client,
            ThreadPoolExecutor(max_workers=workers) as pool,
        ):
            next_tick = time.monotonic()
            last_flush = time.monotonic()
            while not self._stop.is_set():
                now = time.time()
                t = int(now - self.started_at)
                asked = [pool.submit(self._ask, client, query, now) for query in queries]
                scrapes = list(pool.map(lambda target: self._scrape(client, target), self.targets))
                for target, (when, text) in zip(self.targets, scrapes, strict=True):
                    self._record_scrape(t, target, when, text)
                for future in asked:
                    self._record_query(t, future.result())
                self._record_processes(t)
                with self._latest_lock:
                    self._latest = LatestSecond(t, tick_rows(self._tick))
                self._tick = []
                self.seconds_recorded += 1
                if time.monotonic() - last_flush >= self.flush_every_s:
                    self._flush()
                    last_flush = time.monotonic()
                next_tick += self.interval_s
                self._stop.wait(max(0.0, next_tick - time.monotonic()))

    def _scrape(self, client: httpx.Client, target: ScrapeTarget) -> tuple[float, str | None]:
        try:
            response = client.get(f"{target.url}/metrics")
            return time.monotonic(), response.text if response.status_code == 200 else None
        except httpx.HTTPError:
            return time.monotonic(), None

    def _ask(self, client: httpx.Client, query: NamedQuery, at: float) -> Outcome:
        assert self.feed is not None
        return self.feed.evaluate(client, query, at)

    def _add(self, t: int, service: str, metric: str, key: LabelKey, value: float) -> None:
        self._rows.append((t, service, metric, label_text(key), float(value)))
        self._tick.append((service, metric, key, float(value)))

    def _record_query(self, t: int, outcome: Outcome) -> None:
        """A query's samples as rows of its name (and their analysis aliases, as a
        scraped metric of that name would have)."""
        query = outcome.query
        metric, by = query.name, query.service_label
        for labels, value in outcome.samples:
            service, key = query.service, labels
            if by is not None:
                found = dict(labels).get(by)
                service = found[:100] if found else service
                key = tuple(pair for pair in labels if pair[0] != by)
            self._add(t, service, metric, key, value)
            for alias, alias_key, alias_value in aliases_for(service, metric, key, value):
                self._add(t, service, alias, alias_key, alias_value)

    def _record_scrape(self, t: int, target: ScrapeTarget, when: float, text: str | None) -> None:
        instance: LabelKey = (("instance", target.instance),) if target.instance else ()
        self._add(t, target.service, "up", instance, 0.0 if text is None else 1.0)
        if text is None:
            return
        try:
            snapshot = parse(text)
        except ValueError:
            return
        previous = self._previous.get(target)
        elapsed = when - previous[0] if previous else 0.0
        for metric, key, value in per_second(previous[1] if previous else None, snapshot, elapsed):
            labels = tuple(sorted((*key, *instance)))
            if keep(target.service, metric, labels, value):
                self._add(t, target.service, metric, labels, value)
            for alias, alias_key, alias_value in aliases_for(target.service, metric, labels, value):
                self._add(t, target.service, alias, alias_key, alias_value)
        self._previous[target] = (when, snapshot)

    def _record_processes(self, t: int) -> None:
        for watched in self.processes:
            proc = self._psutil.get(watched.ref)
            if proc is None:
                live = watched.ref.process()
                if live is None:
                    continue
                proc = self._psutil.setdefault(watched.ref, live)
                proc.cpu_percent()  # the first call only primes the counter
                continue
            try:
                with proc.oneshot():
                    cpu, rss = proc.cpu_percent(), proc.memory_info().rss
            except psutil.Error:
                self._psutil.pop(watched.ref, None)
                continue
            key: LabelKey = (("process", watched.ref.name),)
            self._add(t, watched.service, "process_cpu_percent", key, cpu)
            self._add(t, watched.service, "process_rss_mib", key, rss / 2**20)
            if watched.counts_children:
                children = self._children_cpu(watched.ref, proc)
                self._add(t, watched.service, "process_tree_cpu_percent", key, cpu + children)
                tree = 1 + len(self._children[watched.ref])
                self._add(t, watched.service, "process_tree_processes", key, tree)

    def _children_cpu(self, ref: ProcessRef, proc: psutil.Process) -> float:
        """CPU % of the children since the last call. The list of children is read every
        ``CHILDREN_EVERY_S`` seconds (it scans every process of the machine); a child new
        to it is primed and counts from the next second."""
        known = self._children.setdefault(ref, {})
        self._children_age[ref] = age = self._children_age.get(ref, -1) + 1
        if age % CHILDREN_EVERY_S == 0:
            try:
                current = proc.children()
            except psutil.Error:
                current = []
            pids = {child.pid for child in current}
            for pid in set(known) - pids:
                del known[pid]
            fresh = [child for child in current if child.pid not in known]
            for child in fresh:
                with contextlib.suppress(psutil.Error):
                    child.cpu_percent()  # primed: counts from the next second
            known.update((child.pid, child) for child in fresh)
            skip = {child.pid for child in fresh}
        else:
            skip = set()
        total = 0.0
        for pid, child in list(known.items()):
            if pid in skip:
                continue
            try:
                total += child.cpu_percent()
            except psutil.Error:
                del known[pid]
        return total

    def _flush(self) -> None:
        if not self._rows or not self._started:
            return
        rows, self._rows = self._rows, []
        columns = list(zip(*rows, strict=True))
        table = pa.Table.from_arrays([pa.array(c) for c in columns], schema=SCHEMA)
        try:
            write_part(self.parts, self._parts_written + 1, table)
        except OSError as error:
            self._rows = rows + self._rows  # tried again at the next flush
            self._failed(error)
            return
        self._parts_written += 1
