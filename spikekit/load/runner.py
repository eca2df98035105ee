"""Run the load: a Locust master and N workers as child processes, bounded in time.

The orchestrating process never imports gevent or Locust: it starts
``python -m spikekit.load.master`` and ``python -m spikekit.load.worker`` (each with a
parent-death signal, :func:`spikekit.processes.spawn`), tails the master's ``live.jsonl``
and fires :class:`~spikekit.load.events.LoadEvents`. Deadlines:

- the master stops its players by itself at ``planned + grace_s`` (or ``max_duration_s``);
- the runner kills every process by PID at that deadline + ``stop_timeout_s`` + ``wrapup_s``
  + ``kill_grace_s`` (the hard deadline: a hung or starved master cannot outlive it),
  and kills workers still alive ``kill_grace_s`` after the master ended.

Files (``run_dir/load/``): the scenario as JSON, ``live.jsonl``, one log per process and
one ack file per worker, merged into ``run_dir/acked_transactions.jsonl`` at the end;
with ``LoadOptions.raw_samples``, one CSV of every request per worker
(``raw-samples-worker-N.csv``).
Faults of the toolkit itself (:class:`~spikekit.load.result.GeneratorIncident`, fired on
the ``incident`` hook at once and kept in the result): a local worker that exits during
the run, or one the master reports lost, is a *data hole* and the run goes on; a master
that dies without writing its files ends the load at once (the workers are sent SIGTERM,
which flushes their records) and the result is aborted; a run folder whose disk is full
(less than :data:`MIN_FREE_BYTES` free, checked every second) stops the load, aborted.

Children are spawned from the calling thread: call :meth:`LoadRunner.start` from a thread
that lives as long as the run (the parent-death signal follows the forking thread).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from spikekit.errors import LoadError
from spikekit.load.acks import merge_ack_files
from spikekit.load.events import LoadEvents, LoadStarted
from spikekit.load.options import LoadOptions, plan_workers
from spikekit.load.recorder import SecondSummary
from spikekit.load.result import (
    GeneratorIncident,
    IncidentKind,
    LoadResult,
    LoadStatus,
    read_totals,
)
from spikekit.load.target import check_target
from spikekit.ports import free_port
from spikekit.processes import ManagedProcess, spawn, terminate_refs
from spikekit.scenarios import Scenario

ACKED = "acked_transactions.jsonl"
UNACKED = "unacked_transactions.jsonl"
POLL_S = 0.1
#: Below this much free space on the run folder's disk, the run stops (files would fail).
MIN_FREE_BYTES = 1 << 20
DISK_CHECK_S = 1.0
EXIT_WRITE_FAILED = 5  # spikekit.load.worker and .master: the run's files cannot be written


def exit_text(code: int | None) -> str:
    """``killed by SIGKILL`` / ``exited with code 5``."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    if code == EXIT_WRITE_FAILED:
        return f"exited with code {code} (it could not write its files)"
    return f"exited with code {code}"


class LiveTail:
    """Reads the complete lines the master appended to ``live.jsonl`` since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = ""

    def read(self) -> list[dict[str, Any]]:
        try:
            with self.path.open(encoding="utf-8") as handle:
                handle.seek(self._offset)
                text = handle.read()
                self._offset = handle.tell()
        except FileNotFoundError:
            return []
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        return [json.loads(line) for line in lines if line.strip()]


class LoadRunner:
    def __init__(
        self,
        scenario: Scenario,
        target_url: str,
        run_dir: Path,
        options: LoadOptions | None = None,
        events: LoadEvents | None = None,
    ) -> None:
        self.scenario = scenario
        self.target_url = target_url.rstrip("/")
        self.run_dir = Path(run_dir)
        self.load_dir = self.run_dir / "load"
        self.options = options or LoadOptions()
        self.events = events or LoadEvents()
        self.plan = plan_workers(self.options.workers, scenario)
        self.master: ManagedProcess | None = None
        self.workers: list[ManagedProcess] = []
        self.started_at: float | None = None
        self._stop_reason: str | None = None
        self._ended: dict[str, Any] | None = None
        self._killed: list[str] = []
        self._live = LiveTail(self.load_dir / "live.jsonl")
        self.incidents: list[GeneratorIncident] = []
        self._lost_pids: set[int] = set()
        self._master_lost = False
        self._next_disk_check = 0.0

    # --- deadlines -------------------------------------------------------------------------

    @property
    def master_deadline_s(self) -> float:
        """Seconds after t = 0 at which the master stops its players by itself."""
        deadline = self.scenario.planned_duration_s + self.options.grace_s
        if self.options.max_duration_s is not None:
            deadline = min(deadline, self.options.max_duration_s)
        return deadline

    @property
    def hard_deadline_s(self) -> float:
        """Seconds after t = 0 past which every process is killed."""
        options = self.options
        return (
            self.master_deadline_s
            + options.stop_timeout_s
            + options.wrapup_s
            + options.kill_grace_s
        )

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        check_target(self.target_url, self.options.allow_targets)
        self.load_dir.mkdir(parents=True, exist_ok=True)
        scenario_file = self.load_dir / "scenario.json"
        scenario_file.write_text(self.scenario.model_dump_json(), encoding="utf-8")
        port = self.options.master_port or free_port()
        expect = self.plan.workers + self.options.remote_workers
        python = self.options.python
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        master_argv = [
            python,
            "-m",
            "spikekit.load.master",
            "--scenario-file",
            str(scenario_file),
            "--host",
            self.target_url,
            "--bind",
            self.options.master_bind,
            "--port",
            str(port),
            "--expect-workers",
            str(expect),
            "--run-dir",
            str(self.run_dir),
            "--live",
            str(self._live.path),
            "--deadline",
            f"{self.master_deadline_s:.3f}",
            "--stop-timeout",
            str(self.options.stop_timeout_s),
            "--startup-timeout",
            str(self.options.startup_timeout_s),
        ]
        self.master = spawn(
            "load-master",
            master_argv,
            self.load_dir / "master.log",
            env=env,
            death_signal=signal.SIGKILL,
        )
        for index in range(self.plan.workers):
            worker_argv = [
                python,
                "-m",
                "spikekit.load.worker",
                "--master",
                "127.0.0.1",
                "--master-port",
                str(port),
                "--acks-file",
                str(self.load_dir / f"acks-worker-{index}.jsonl"),
                "--connections",
                str(self.options.connections_per_worker),
                "--network-timeout",
                str(self.options.network_timeout_s),
                "--connect-timeout",
                str(self.options.connect_timeout_s),
            ]
            if self.options.raw_samples:
                worker_argv += ["--raw-samples", str(self.raw_samples_path(index))]
            self.workers.append(
                spawn(
                    f"load-worker-{index}",
                    worker_argv,
                    self.load_dir / f"worker-{index}.log",
                    env=env,
                    death_signal=signal.SIGKILL,
                )
            )

    def raw_samples_path(self, index: int) -> Path:
        """Worker ``index``'s CSV of every request (written with ``raw_samples`` only)."""
        return self.load_dir / f"raw-samples-worker-{index}.csv"

    def stop(self, reason: str = "stopped") -> None:
        """Ask the master to stop its players and write its files (any thread)."""
        self._stop_reason = self._stop_reason or reason
        if self.master is not None and self.master.poll() is None:
            self.master.popen.send_signal(signal.SIGTERM)

    def wait(self) -> LoadResult:
        """Follow the run to its end, firing the events; always leaves no process behind."""
        if self.master is None:
            raise LoadError("the load runner was not started")
        try:
            self._follow()
        finally:
            self._reap()
        return self._result()

    def close(self) -> None:
        """Kill whatever is still running (idempotent)."""
        self._reap(grace_s=0.0)

    def __enter__(self) -> LoadRunner:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------

    def _handle(self, line: dict[str, Any]) -> None:
        event = line.get("event")
        if event == "started":
            self.started_at = float(line["started_at"])
            planned = self.scenario.planned_duration_s
            self.events.started.fire(LoadStarted(self.started_at, int(line["workers"]), planned))
        elif event == "second":
            self.events.second_elapsed.fire(SecondSummary.from_json(line))
        elif event == "ended":
            self._ended = line
        elif event == "worker_lost":
            self._worker_lost_by_master(line)

    # --- faults of the toolkit -------------------------------------------------------------

    def _elapsed(self) -> float:
        return time.time() - self.started_at if self.started_at is not None else 0.0

    def _incident(self, incident: GeneratorIncident) -> None:
        self.incidents.append(incident)
        self.events.incident.fire(incident)

    def _records_of(self, index: int) -> tuple[str, ...]:
        return (f"load/acks-worker-{index}.jsonl", f"load/unacked-worker-{index}.jsonl")

    def _watch_workers(self) -> None:
        """A local worker that exits while the master runs: its records have a hole."""
        for index, worker in enumerate(self.workers):
            code = worker.poll()
            if code is None or worker.pid in self._lost_pids:
                continue
            for line in self._live.read():  # the master may have ended the run meanwhile
                self._handle(line)
            if self._ended is not None:
                return  # workers leave with their master: not lost
            self._lost_pids.add(worker.pid)
            if worker.name in self._killed:
                continue  # ours (hard deadline)
            if code == EXIT_WRITE_FAILED:  # every record after this is lost: the run stops
                self._cannot_write(f"{worker.name} (PID {worker.pid}) could not write its records")
                continue
            left = sum(1 for w in self.workers if w.poll() is None)
            self._incident(
                GeneratorIncident(
                    t=self._elapsed(),
                    kind=IncidentKind.WORKER_LOST,
                    subject=worker.name,
                    detail=(
                        f"generator lost {worker.name} (PID {worker.pid}, {exit_text(code)}) "
                        f"at t={self._elapsed():.0f} s; {left} of {len(self.workers)} local "
                        "workers left: its acknowledgements since its last flush and its "
                        "requests in flight are not in the records"
                    ),
                    # acks are flushed every second; a request in flight may have been
                    # applied up to a network timeout before its answer was due
                    records_lost_from_ts=time.time() - 1.5 - self.options.network_timeout_s,
                    records_of=self._records_of(index),
                )
            )

    def _worker_lost_by_master(self, line: dict[str, Any]) -> None:
        """The master's heartbeat lost a worker: a remote one, or a local one not seen yet."""
        pid = int(line.get("pid") or 0)
        local = next((w for w in self.workers if pid and w.pid == pid), None)
        if local is not None:
            self._watch_workers()
            if pid in self._lost_pids:
                return
            # alive yet lost (hung, cut off): kill it so that it cannot come back half-way
            local.popen.kill()
            local.popen.wait(5)
            self._watch_workers()
            return
        name = str(line.get("worker", "?"))
        last_t = int(line.get("last_t", -1))
        started = self.started_at or time.time()
        self._incident(
            GeneratorIncident(
                t=float(line.get("t", self._elapsed())),
                kind=IncidentKind.WORKER_LOST,
                subject=name,
                detail=(
                    f"generator lost {name} at t={float(line.get('t', 0.0)):.0f} s (no "
                    f"heartbeat; last second reported: {last_t}): its records since are lost"
                ),
                records_lost_from_ts=started + last_t + 1 - self.options.network_timeout_s,
                records_of=(),  # a remote worker's files are not here: every player
            )
        )

    def _master_died(self) -> None:
        """The master ended without writing its files: stop the workers now (SIGTERM makes
        them flush their records), and say so."""
        assert self.master is not None
        code = self.master.poll()
        self._master_lost = True
        for worker in self.workers:
            if worker.poll() is None:
                worker.popen.send_signal(signal.SIGTERM)
        reason = (
            f"the Locust master (PID {self.master.pid}) died at t={self._elapsed():.0f} s "
            f"({exit_text(code)}) before writing its files"
        )
        self._stop_reason = self._stop_reason or reason
        self._incident(
            GeneratorIncident(
                t=self._elapsed(),
                kind=IncidentKind.MASTER_LOST,
                subject="load-master",
                detail=f"{reason}: the load stopped; the workers were stopped and their "
                "requests in flight are not in the records",
                records_lost_from_ts=time.time() - 1.5 - self.options.network_timeout_s,
                records_of=(),
            )
        )

    @property
    def _write_failed(self) -> bool:
        return any(
            i.kind in (IncidentKind.DISK_FULL, IncidentKind.WRITE_FAILED) for i in self.incidents
        )

    def _free_bytes(self) -> int | None:
        try:
            return shutil.disk_usage(self.run_dir).free
        except OSError:
            return None

    def _watch_disk(self) -> None:
        now = time.monotonic()
        if now < self._next_disk_check:
            return
        self._next_disk_check = now + DISK_CHECK_S
        free = self._free_bytes()
        if free is not None and free < MIN_FREE_BYTES:
            self._cannot_write("")

    def _cannot_write(self, detail: str) -> None:
        """Files of the run cannot be written: stop the load (once)."""
        if self._write_failed:
            return
        kind = IncidentKind.WRITE_FAILED
        free = self._free_bytes()
        if free is not None and free < MIN_FREE_BYTES:
            kind = IncidentKind.DISK_FULL
            full = f"the run folder's disk is full ({free:,} bytes free on {self.run_dir})"
            detail = f"{full}: {detail}" if detail else full
        self._incident(
            GeneratorIncident(
                t=self._elapsed(),
                kind=kind,
                subject=str(self.run_dir),
                detail=f"{detail}; what could not be written is lost",
                records_lost_from_ts=time.time() - 1.5 - self.options.network_timeout_s,
                records_of=(),
            )
        )
        self.stop(detail)

    def _follow(self) -> None:
        assert self.master is not None
        startup_deadline = time.monotonic() + self.options.startup_timeout_s + 15.0
        while True:
            for line in self._live.read():
                self._handle(line)
            if self.started_at is not None:
                self._watch_workers()
                self._watch_disk()
            if self.master.poll() is not None:
                for line in self._live.read():
                    self._handle(line)
                if self.started_at is None and self._ended is None:
                    raise LoadError(
                        f"the Locust master exited with code {self.master.poll()} before the "
                        f"load started:\n{self.master.log_tail()}"
                    )
                if self._ended is None and "load-master" not in self._killed:
                    if self.master.poll() == EXIT_WRITE_FAILED or self._write_failed:
                        self._cannot_write("the Locust master could not write its files")
                    else:
                        self._master_died()
                return
            if self.started_at is None:
                if time.monotonic() > startup_deadline:
                    raise LoadError(
                        f"the load did not start within {self.options.startup_timeout_s:.0f} s"
                        f":\n{self.master.log_tail()}"
                    )
                if any(w.poll() is not None for w in self.workers):
                    dead = next(w for w in self.workers if w.poll() is not None)
                    raise LoadError(f"{dead.name} exited at startup:\n{dead.log_tail()}")
            elif time.time() > self.started_at + self.hard_deadline_s:
                self._kill_all("hard deadline")
                return
            time.sleep(POLL_S)

    def _kill_all(self, reason: str) -> None:
        self._stop_reason = self._stop_reason or reason
        for process in [p for p in (self.master, *self.workers) if p is not None]:
            if process.poll() is None:
                process.popen.kill()
                process.popen.wait(5)
                self._killed.append(process.name)

    def _reap(self, grace_s: float | None = None) -> None:
        """Give the workers ``grace_s`` to follow their master out, then kill by PID."""
        grace = self.options.kill_grace_s if grace_s is None else grace_s
        processes = [p for p in (self.master, *self.workers) if p is not None]
        until = time.monotonic() + grace
        while time.monotonic() < until and any(p.poll() is None for p in processes):
            time.sleep(POLL_S)
        alive = [p for p in processes if p.poll() is None]
        self._killed.extend(p.name for p in alive)
        terminate_refs([p.ref for p in alive], timeout=2.0)
        for process in processes:
            if process.poll() is None:
                process.popen.kill()
            process.popen.wait(5)

    def _merge(self, pattern: str, name: str, warnings: list[str]) -> int:
        try:
            return merge_ack_files(sorted(self.load_dir.glob(pattern)), self.run_dir / name)
        except OSError as error:  # disk full: the per-worker files stay, report merges them
            (self.run_dir / name).unlink(missing_ok=True)
            warnings.append(f"{name} not written ({error.strerror or error}); {pattern} kept")
            return 0

    def _result(self) -> LoadResult:
        warnings = [self.plan.warning] if self.plan.warning else []
        acked = self._merge("acks-worker-*.jsonl", ACKED, warnings)
        self._merge("unacked-worker-*.jsonl", UNACKED, warnings)
        totals, tracking = read_totals(self.run_dir, self.scenario.planned_duration_s)
        ended = self._ended or {}
        if (self._killed and "hard deadline" in (self._stop_reason or "")) or self._master_lost:
            status, reason = LoadStatus.ABORTED, self._stop_reason
        elif self._ended is None:
            status, reason = LoadStatus.ABORTED, "the master ended without writing its files"
            if self._stop_reason:
                reason = f"{self._stop_reason}; {reason}"
        elif ended.get("status") == "stopped":
            status, reason = LoadStatus.STOPPED, self._stop_reason or ended.get("reason")
        elif ended.get("status") == "aborted":
            status, reason = LoadStatus.ABORTED, ended.get("reason")
        else:
            status, reason = LoadStatus.COMPLETED, None
        if status is LoadStatus.STOPPED and self._write_failed:
            status = LoadStatus.ABORTED  # stopped by us because files cannot be written
        if self._killed:
            warnings.append(f"killed by PID: {', '.join(sorted(set(self._killed)))}")
        result = LoadResult(
            status=status,
            reason=reason,
            started_at=self.started_at,
            ended_at=time.time(),
            workers=self.plan.workers,
            run_dir=self.run_dir,
            acked_transactions=acked,
            totals=totals,
            tracking=tracking,
            killed=sorted(set(self._killed)),
            warnings=warnings,
            incidents=list(self.incidents),
        )
        self.events.ended.fire(result)
        return result


def run_load(
    scenario: Scenario,
    target_url: str,
    run_dir: Path,
    options: LoadOptions | None = None,
    events: LoadEvents | None = None,
) -> LoadResult:
    """Run the scenario's load against ``target_url``, write the run directory's load files."""
    with LoadRunner(scenario, target_url, run_dir, options, events) as runner:
        return runner.wait()
