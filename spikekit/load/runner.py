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
the ``incident`` hook at once and kept in the result) are noticed by the runner's
:class:`~spikekit.load.watchdog.Watchdog`: a lost worker is a *data hole* and the run goes
on; a master that dies without writing its files, or a full disk, aborts the load.

Children are spawned from the calling thread: call :meth:`LoadRunner.start` from a thread
that lives as long as the run (the parent-death signal follows the forking thread).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import TracebackType

from spikekit.errors import LoadError
from spikekit.load.events import LoadEvents, LoadStarted
from spikekit.load.options import LoadOptions, plan_workers
from spikekit.load.process_args import EXIT_WRITE_FAILED, MasterArgs, WorkerArgs
from spikekit.load.result import GeneratorIncident, LoadResult, LoadStatus, read_totals
from spikekit.load.target import check_target
from spikekit.load.watchdog import Watchdog
from spikekit.ports import free_port
from spikekit.processes import ManagedProcess, spawn, terminate_refs
from spikekit.rundir import layout
from spikekit.rundir.acks import MERGED, merge_workers
from spikekit.rundir.live import Ended, LiveLine, LiveTail, SecondSummary, Started, WorkerLost
from spikekit.scenarios import Scenario

POLL_S = 0.1


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
        self.load_dir = self.run_dir / layout.LOAD_DIR
        self.options = options or LoadOptions()
        self.events = events or LoadEvents()
        self.plan = plan_workers(self.options.workers, scenario)
        self.master: ManagedProcess | None = None
        self.workers: list[ManagedProcess] = []
        self.started_at: float | None = None
        self._stop_reason: str | None = None
        self._ended: Ended | None = None
        self._killed: list[str] = []
        self._live = LiveTail(self.load_dir / layout.LIVE_NAME)
        self.watchdog = Watchdog(self, self.run_dir, self.options.network_timeout_s, self.events)

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
        scenario_file = self.load_dir / layout.LOAD_SCENARIO
        scenario_file.write_text(self.scenario.model_dump_json(), encoding="utf-8")
        port = self.options.master_port or free_port()
        expect = self.plan.workers + self.options.remote_workers
        python = self.options.python
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        master_args = MasterArgs(
            scenario_file=scenario_file,
            host=self.target_url,
            bind=self.options.master_bind,
            port=port,
            expect_workers=expect,
            run_dir=self.run_dir,
            live=self._live.path,
            deadline=round(self.master_deadline_s, 3),
            stop_timeout=self.options.stop_timeout_s,
            startup_timeout=self.options.startup_timeout_s,
        )
        self.master = spawn(
            "load-master",
            master_args.command(python),
            self.load_dir / layout.MASTER_LOG,
            env=env,
            death_signal=signal.SIGKILL,
        )
        for index in range(self.plan.workers):
            worker_args = WorkerArgs(
                master="127.0.0.1",
                master_port=port,
                acks_file=self.load_dir / layout.worker_acks(index),
                connections=self.options.connections_per_worker,
                network_timeout=self.options.network_timeout_s,
                connect_timeout=self.options.connect_timeout_s,
                raw_samples=self.raw_samples_path(index) if self.options.raw_samples else None,
            )
            self.workers.append(
                spawn(
                    f"load-worker-{index}",
                    worker_args.command(python),
                    self.load_dir / layout.worker_log(index),
                    env=env,
                    death_signal=signal.SIGKILL,
                )
            )

    def raw_samples_path(self, index: int) -> Path:
        """Worker ``index``'s CSV of every request (written with ``raw_samples`` only)."""
        return self.load_dir / layout.worker_raw_samples(index)

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

    def _handle(self, line: LiveLine) -> None:
        if isinstance(line, Started):
            self.started_at = line.started_at
            planned = self.scenario.planned_duration_s
            self.events.started.fire(LoadStarted(self.started_at, line.workers, planned))
        elif isinstance(line, SecondSummary):
            self.events.second_elapsed.fire(line)
        elif isinstance(line, Ended):
            self._ended = line
        elif isinstance(line, WorkerLost):
            self.watchdog.worker_lost_by_master(
                pid=line.pid, name=line.worker, last_t=line.last_t, t=line.t
            )

    # --- what the watchdog sees (spikekit.load.watchdog.WatchedRun) -----------------------

    @property
    def incidents(self) -> list[GeneratorIncident]:
        """The faults of the toolkit noticed so far."""
        return self.watchdog.incidents

    def catch_up(self) -> bool:
        """Handle the master's lines not read yet; True when the master ended the run."""
        for line in self._live.read():
            self._handle(line)
        return self._ended is not None

    def killed_by_us(self, name: str) -> bool:
        return name in self._killed

    def _follow(self) -> None:
        assert self.master is not None
        startup_deadline = time.monotonic() + self.options.startup_timeout_s + 15.0
        while True:
            for line in self._live.read():
                self._handle(line)
            if self.started_at is not None:
                self.watchdog.watch_workers()
                self.watchdog.watch_disk()
            if self.master.poll() is not None:
                for line in self._live.read():
                    self._handle(line)
                if self._ended is not None and self._ended.status == "aborted":
                    # the master may have met the full disk before our once-a-second look
                    self.watchdog.watch_disk(at_once=True, detail=self._ended.reason or "")
                if self.started_at is None and self._ended is None:
                    raise LoadError(
                        f"the Locust master exited with code {self.master.poll()} before the "
                        f"load started:\n{self.master.log_tail()}"
                    )
                if self._ended is None and "load-master" not in self._killed:
                    if self.master.poll() == EXIT_WRITE_FAILED or self.watchdog.write_failed:
                        self.watchdog.cannot_write("the Locust master could not write its files")
                    else:
                        self.watchdog.master_died()
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

    def _merge(self, name: str, pattern: str, warnings: list[str]) -> int:
        try:
            return merge_workers(self.run_dir, name, pattern)
        except OSError as error:  # disk full: the per-worker files stay, report merges them
            (self.run_dir / name).unlink(missing_ok=True)
            warnings.append(f"{name} not written ({error.strerror or error}); {pattern} kept")
            return 0

    def _result(self) -> LoadResult:
        warnings = [self.plan.warning] if self.plan.warning else []
        acked, _ = [self._merge(name, pattern, warnings) for name, pattern in MERGED]
        totals, tracking = read_totals(self.run_dir, self.scenario.planned_duration_s)
        ended = self._ended
        killed = self._killed and "hard deadline" in (self._stop_reason or "")
        if killed or self.watchdog.master_lost:
            status, reason = LoadStatus.ABORTED, self._stop_reason
        elif ended is None:
            status, reason = LoadStatus.ABORTED, "the master ended without writing its files"
            if self._stop_reason:
                reason = f"{self._stop_reason}; {reason}"
        elif ended.status == "stopped":
            status, reason = LoadStatus.STOPPED, self._stop_reason or ended.reason
        elif ended.status == "aborted":
            status, reason = LoadStatus.ABORTED, ended.reason
        else:
            status, reason = LoadStatus.COMPLETED, None
        if self.watchdog.write_failure is not None and status is not LoadStatus.COMPLETED:
            # stopped because files cannot be written: that is the reason, whoever saw it first
            status, reason = LoadStatus.ABORTED, self.watchdog.write_failure
        if self._killed:
            warnings.append(f"killed by PID: {', '.join(sorted(set(self._killed)))}")
        cut = ended.cut_requests if ended is not None else 0
        if cut:
            warnings.append(
                f"{cut} requests cut: players killed with their request out (the platform "
                "may have received them; not in the totals)"
            )
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
            cut_requests=cut,
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
