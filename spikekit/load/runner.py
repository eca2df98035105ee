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
Children are spawned from the calling thread: call :meth:`LoadRunner.start` from a thread
that lives as long as the run (the parent-death signal follows the forking thread).
"""

from __future__ import annotations

import json
import os
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
from spikekit.load.result import LoadResult, LoadStatus, read_totals
from spikekit.load.target import check_target
from spikekit.ports import free_port
from spikekit.processes import ManagedProcess, spawn, terminate_refs
from spikekit.scenarios import Scenario

ACKED = "acked_transactions.jsonl"
UNACKED = "unacked_transactions.jsonl"
POLL_S = 0.1


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

    def _follow(self) -> None:
        assert self.master is not None
        startup_deadline = time.monotonic() + self.options.startup_timeout_s + 15.0
        while True:
            for line in self._live.read():
                self._handle(line)
            if self.master.poll() is not None:
                for line in self._live.read():
                    self._handle(line)
                if self.started_at is None and self._ended is None:
                    raise LoadError(
                        f"the Locust master exited with code {self.master.poll()} before the "
                        f"load started:\n{self.master.log_tail()}"
                    )
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

    def _result(self) -> LoadResult:
        acked = merge_ack_files(
            sorted(self.load_dir.glob("acks-worker-*.jsonl")), self.run_dir / ACKED
        )
        merge_ack_files(
            sorted(self.load_dir.glob("unacked-worker-*.jsonl")), self.run_dir / UNACKED
        )
        totals, tracking = read_totals(self.run_dir, self.scenario.planned_duration_s)
        ended = self._ended or {}
        if self._killed and "hard deadline" in (self._stop_reason or ""):
            status, reason = LoadStatus.ABORTED, self._stop_reason
        elif self._ended is None:
            status, reason = LoadStatus.ABORTED, "the master ended without writing its files"
        elif ended.get("status") == "stopped":
            status, reason = LoadStatus.STOPPED, self._stop_reason or ended.get("reason")
        elif ended.get("status") == "aborted":
            status, reason = LoadStatus.ABORTED, ended.get("reason")
        else:
            status, reason = LoadStatus.COMPLETED, None
        warnings = [self.plan.warning] if self.plan.warning else []
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
