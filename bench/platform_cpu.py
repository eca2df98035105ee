"""CPU-seconds of every process of a run, and what they cost per request.

:class:`TreeSampler` (a thread) snapshots, once a second, the user + system CPU time of a
process and all its descendants — for ``spikekit run``: the orchestrator with the
telemetry recorder, every service, PostgreSQL's postmaster and backends, Redis,
Toxiproxy, the Locust master and workers — together with the whole machine's busy time.
:func:`cpu_between` and :func:`costs` are the arithmetic on two snapshots (pure,
unit-tested): CPU used in between per process, grouped by role (:func:`role`), divided by
the requests completed in the same window.

A process is keyed by (PID, start time), so a reused PID is not mistaken for the old
process. One that starts inside a window counts from zero; one that ends inside it loses
its CPU since the last snapshot (PostgreSQL backends of a pool live for the whole run).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psutil

Key = tuple[int, float]  # (pid, create_time)

RUN = "spikekit run (orchestrator, telemetry recorder)"
PG_BACKENDS = "postgres backends"
PG_SERVER = "postgres postmaster + background"
#: A process this young may not have exec'd yet (or set its title): described again.
_YOUNG_S = 3.0
_PG_BACKEND = re.compile(r"^postgres: \S+ \S+ (\[local\]|\S+\(\d+\))")


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    created: float
    name: str
    cmdline: str
    service: str | None  # SPIKEKIT_SERVICE of a platform service process


@dataclass(frozen=True)
class Snapshot:
    wall: float  # Unix time the snapshot was taken
    cpu: Mapping[Key, float]  # user + system seconds of each process alive
    machine_busy_s: float  # busy seconds of all cores since boot


def role(info: ProcessInfo, root_pid: int) -> str:
    """What a process of the run is, for grouping its CPU (replicas share their service's)."""
    if info.pid == root_pid:
        return RUN
    if info.service:
        return info.service
    if info.name.startswith("postgres") or info.cmdline.startswith("postgres:"):
        return PG_BACKENDS if _PG_BACKEND.match(info.cmdline) else PG_SERVER
    if "redis-server" in info.name or "redis-server" in info.cmdline:
        return "redis"
    if "toxiproxy" in info.name or "toxiproxy" in info.cmdline:
        return "toxiproxy"
    if "spikekit.load.master" in info.cmdline:
        return "load: Locust master"
    if "spikekit.load.worker" in info.cmdline:
        return "load: Locust workers"
    return f"other: {info.name}"


def cpu_between(start: Snapshot, end: Snapshot) -> dict[Key, float]:
    """CPU seconds each process used from ``start`` to ``end``.

    A process missing from ``start`` counts from zero if it was created after it (with
    1 s of slack: start times are rounded), else it is left out (its CPU before the window
    is unknown).
    """
    used: dict[Key, float] = {}
    for key, seconds in end.cpu.items():
        if key in start.cpu:
            used[key] = max(seconds - start.cpu[key], 0.0)
        elif key[1] >= start.wall - 1.0:
            used[key] = seconds
    return used


@dataclass(frozen=True)
class Cost:
    """One role's CPU over a window: per request, as cores, and its hottest process."""

    role: str
    cpu_s: float
    processes: int
    ms_per_request: float
    cores: float  # CPU seconds / window seconds
    hottest_core: float  # the busiest single process of the role, in cores


def costs(
    used: Mapping[Key, float],
    roles: Mapping[Key, str],
    requests: int,
    window_s: float,
    measured_s: float,
) -> list[Cost]:
    """Per-role costs, largest first. ``measured_s`` is the time between the two snapshots
    (about ``window_s``): CPU is scaled to the window whose ``requests`` are counted."""
    scale = window_s / measured_s if measured_s > 0 else 1.0
    grouped: dict[str, list[float]] = {}
    for key, seconds in used.items():
        grouped.setdefault(roles.get(key, "other: unknown"), []).append(seconds * scale)
    result = [
        Cost(
            role=name,
            cpu_s=sum(values),
            processes=len(values),
            ms_per_request=1e3 * sum(values) / requests if requests else float("nan"),
            cores=sum(values) / window_s if window_s else float("nan"),
            hottest_core=max(values) / window_s if window_s else float("nan"),
        )
        for name, values in grouped.items()
    ]
    return sorted(result, key=lambda c: -c.cpu_s)


def marginal_ms(cores: float, idle_cores: float, requests_per_s: float) -> float:
    """CPU-ms per request above what the same processes burn without players."""
    if requests_per_s <= 0:
        return float("nan")
    return 1e3 * (cores - idle_cores) / requests_per_s


def ceiling_rps(cpus: int, idle_cores: float, ms_per_request: float) -> float:
    """Requests a second the whole machine would serve at this marginal cost: every core
    busy (a CPU-bound upper limit; latency climbs before it)."""
    if ms_per_request <= 0 or ms_per_request != ms_per_request:
        return float("nan")
    return max(cpus - idle_cores, 0.0) / (ms_per_request / 1e3)


def nearest(snapshots: Sequence[Snapshot], wall: float) -> Snapshot | None:
    return min(snapshots, key=lambda s: abs(s.wall - wall), default=None)


# --- sampling (psutil) ------------------------------------------------------------------------


def _machine_busy_s() -> float:
    times = psutil.cpu_times()._asdict()
    idle = times.get("idle", 0.0) + times.get("iowait", 0.0)
    return float(sum(times.values()) - idle)


def machine_busy_cores(seconds: float) -> float:
    """Cores the whole machine kept busy over the next ``seconds``."""
    before = _machine_busy_s()
    time.sleep(seconds)
    return (_machine_busy_s() - before) / seconds


def wait_for_quiet(busy_cores: float, max_wait_s: float, sample_s: float = 5.0) -> float:
    """Wait (at most ``max_wait_s``) until the machine's other work keeps fewer than
    ``busy_cores`` busy; the last figure seen, quiet or not."""
    deadline = time.monotonic() + max_wait_s
    busy = machine_busy_cores(sample_s)
    while busy >= busy_cores and time.monotonic() < deadline:
        busy = machine_busy_cores(sample_s)
    return busy


class TreeSampler:
    """Snapshots a process tree every ``interval_s`` on a thread, until :meth:`stop`."""

    def __init__(self, root_pid: int, interval_s: float = 1.0) -> None:
        self.root_pid = root_pid
        self.interval_s = interval_s
        self.snapshots: list[Snapshot] = []
        self.infos: dict[Key, ProcessInfo] = {}
        self.own_cpu_s = 0.0  # what sampling cost this process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10.0)

    def roles(self) -> dict[Key, str]:
        return {key: role(info, self.root_pid) for key, info in self.infos.items()}

    def _run(self) -> None:
        began = time.thread_time()
        next_at = time.monotonic()
        while not self._stop.is_set():
            snapshot = self._snapshot()
            if snapshot is None:
                break  # the root has ended
            self.snapshots.append(snapshot)
            next_at += self.interval_s
            self._stop.wait(max(next_at - time.monotonic(), 0.0))
        self.own_cpu_s = time.thread_time() - began

    def _snapshot(self) -> Snapshot | None:
        try:
            root = psutil.Process(self.root_pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        cpu: dict[Key, float] = {}
        snapshot_wall = time.time()
        for process in processes:
            with contextlib.suppress(psutil.Error):
                key = (process.pid, process.create_time())
                times = process.cpu_times()
                cpu[key] = times.user + times.system
                if key not in self.infos or snapshot_wall - key[1] < _YOUNG_S:
                    self.infos[key] = _describe(process, key)
        return Snapshot(snapshot_wall, cpu, _machine_busy_s())


def _describe(process: psutil.Process, key: Key) -> ProcessInfo:
    name, cmdline, service = "", "", None
    with contextlib.suppress(psutil.Error):
        name = process.name()
        cmdline = " ".join(process.cmdline())
        service = process.environ().get("SPIKEKIT_SERVICE")
    return ProcessInfo(key[0], key[1], name, cmdline, service)
