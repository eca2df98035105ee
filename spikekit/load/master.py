"""The Locust master process: ``python -m spikekit.load.master ...`` (started by the runner,
its command line :class:`~spikekit.load.process_args.MasterArgs`).

It waits for its workers, sends each the scenario (``spikekit_setup``), starts the shape at
``started_at``, records every second (:class:`~spikekit.load.recorder.Recorder`) and tells
the runner through ``--live`` (one typed line per event, :mod:`spikekit.rundir.live`). It
stops on its own when the shape ends, at ``--deadline`` seconds, or on SIGTERM; then it
writes the run directory's files. The per-second latency histograms go out while it runs,
a part file every ``FLUSH_EVERY_S`` seconds (:class:`~spikekit.rundir.second_histograms.
PartWriter`), so that a killed run keeps them up to its last flush.

A worker that Locust's heartbeat marks missing (killed, hung, its machine gone) is *lost*:
the recorder stops waiting for it and stops counting its players, its users are spread
over the workers left, and a ``worker_lost`` line tells the runner (its records have a
hole from its last report on). A write that fails (disk full) ends the run: ``ended`` says
so when it can still be written.
Exit codes: 0 completed or stopped, 3 workers never came, 4 recorder failure, 5 the run
directory's files could not be written.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from typing import Any

import gevent
import psutil
from locust.env import Environment
from locust.runners import (
    STATE_MISSING,
    STATE_RUNNING,
    STATE_SPAWNING,
    STATE_STOPPED,
    MasterRunner,
)

from spikekit.load.locust_shape import STOP_RATE, ScenarioShape
from spikekit.load.outputs import write_outputs
from spikekit.load.process_args import EXIT_BAD_ARGV, EXIT_WRITE_FAILED, ArgvError, MasterArgs
from spikekit.load.protocol import SECOND_MESSAGE, SETUP_MESSAGE, Setup, WorkerSecond
from spikekit.load.recorder import Recorder
from spikekit.load.shape_driver import ShapeDriver
from spikekit.load.user_classes import LocustfileError, user_classes
from spikekit.rundir.live import Ended, EndStatus, Listening, LiveWriter, Started, WorkerLost
from spikekit.rundir.second_histograms import FLUSH_EVERY_S, PartWriter
from spikekit.scenarios import Scenario
from spikekit.scenarios.shape import spawn_capacity

EXIT_NO_WORKERS = 3
#: Between the workers being ready and t = 0 (the setup message travels first).
START_DELAY_S = 0.5
#: Past the shape's end before the players stop (the workers count the last second first).
END_HOLD_S = 0.3
#: After the players stopped, how long to wait for the workers' last seconds.
DRAIN_S = 3.0


class Master:
    def __init__(self, args: MasterArgs) -> None:
        self.args = args
        self.scenario = Scenario.model_validate_json(args.scenario_file.read_text("utf-8"))
        self.driver = ShapeDriver(self.scenario)
        self.live = LiveWriter(args.live)
        self.env = Environment(
            user_classes=user_classes(self.scenario),
            shape_class=ScenarioShape(self.driver),
            host=args.host,
            stop_timeout=args.stop_timeout,
        )
        self.runner: MasterRunner = self.env.create_master_runner(args.bind, args.port)
        self.stop_reason: str | None = None
        self.recorder: Recorder | None = None
        self.started_at = 0.0
        self.process = psutil.Process()
        self.names: dict[str, str] = {}  # Locust client id → worker-N
        self.pids: dict[str, int] = {}  # worker-N → its process id (from its reports)
        self.lost: set[str] = set()
        #: worker-N → (second, Locust users alive on it when it reported that second)
        self.alive: dict[str, tuple[int, int]] = {}
        self.histogram_parts = PartWriter(args.run_dir)
        self.histogram_seconds_lost = 0  # rows a part write failed for (disk full)

    def wait_for_workers(self) -> bool:
        self.live.emit(Listening(port=self.args.port, expect_workers=self.args.expect_workers))
        deadline = time.monotonic() + self.args.startup_timeout
        while len(self.runner.clients.ready) < self.args.expect_workers:
            if time.monotonic() > deadline or self.stop_reason:
                return False
            gevent.sleep(0.1)
        return True

    def start(self) -> None:
        workers = sorted(c.id for c in self.runner.clients.ready)
        names = [f"worker-{i}" for i in range(len(workers))]
        self.names = dict(zip(workers, names, strict=True))
        self.started_at = time.time() + START_DELAY_S
        self.recorder = Recorder(self.driver.second_target, names)
        self.runner.register_message(SECOND_MESSAGE, self.on_second)
        for index, client_id in enumerate(workers):
            setup = Setup(
                scenario=self.scenario,
                worker_index=index,
                workers_total=len(workers),
                started_at=self.started_at,
            )
            self.runner.send_message(SETUP_MESSAGE, setup.to_wire(), client_id)
        gevent.sleep(max(0.0, self.started_at - time.time()))
        self.runner.start_shape()
        self.live.emit(Started(started_at=self.started_at, workers=len(workers)))

    def on_second(self, environment: Environment, msg: Any, **_: Any) -> None:
        if self.recorder is not None:
            report = WorkerSecond.from_wire(msg.data)
            if report.pid:
                self.pids[report.worker] = report.pid
            if report.t >= self.alive.get(report.worker, (-1, 0))[0]:
                self.alive[report.worker] = (report.t, report.users)
            self.recorder.add(report)

    def check_workers(self) -> None:
        """Drop the workers Locust lost (missing heartbeat, gone) and re-spread their users."""
        assert self.recorder is not None
        clients = self.runner.clients
        for client_id, name in self.names.items():
            if name in self.lost:
                continue
            client = clients.get(client_id)
            if client is not None and client.state != STATE_MISSING:
                continue
            self.lost.add(name)
            self.recorder.drop_worker(name)
            left = len(self.names) - len(self.lost)
            logging.warning("lost %s (%d workers left)", name, left)
            self.live.emit(
                WorkerLost(
                    worker=name,
                    pid=self.pids.get(name, 0),
                    t=round(self.elapsed(), 3),
                    last_t=self.recorder.last_reported(name),
                    workers_left=left,
                )
            )
            running = self.runner.state in (STATE_RUNNING, STATE_SPAWNING)
            if left and running and self.stop_reason is None and self.runner.shape_greenlet:
                # Locust's heartbeat took the worker out of its dispatcher; dispatching the
                # same target again spreads its users over the workers left, at once (a
                # jump: at what they can spawn, not at the shape's rate of the moment)
                rate = max(self.spawn_rate, spawn_capacity(left))
                gevent.spawn(self.runner.start, self.runner.target_user_count, rate)

    @property
    def spawn_rate(self) -> float:
        return float(getattr(self.runner, "spawn_rate", 0.0) or STOP_RATE)

    def elapsed(self) -> float:
        return time.time() - self.started_at

    def publish(self, final: bool = False) -> None:
        assert self.recorder is not None
        rows = self.recorder.finish() if final else self.recorder.due(self.elapsed())
        for summary in rows:
            self.live.emit(summary)

    def flush_histograms(self) -> None:
        """The histograms of the seconds published since the last flush, as a part file.
        A write that fails drops them (the analysis falls back to the per-second
        percentiles where they are missing) and the run goes on."""
        assert self.recorder is not None
        rows = self.recorder.take_histograms()
        try:
            self.histogram_parts.write(rows)
        except OSError as error:
            self.histogram_seconds_lost += len(rows)
            logging.warning("latency histograms: %d rows not written: %s", len(rows), error)

    def run(self) -> EndStatus:
        """Until the shape ends, the deadline passes or SIGTERM; returns the status."""
        assert self.recorder is not None
        next_sample = 1
        next_flush = FLUSH_EVERY_S
        status: EndStatus = "completed"
        while True:
            gevent.sleep(0.2)
            elapsed = self.elapsed()
            if elapsed >= next_sample:
                cpu, rss = self.process.cpu_percent(None), self.process.memory_info().rss
                self.recorder.add_master_sample(next_sample - 1, cpu, rss)
                next_sample += 1
            self.check_workers()
            self.publish()
            if elapsed >= next_flush:
                self.flush_histograms()
                next_flush += FLUSH_EVERY_S
            if self.live.error is not None:
                status, self.stop_reason = "aborted", self.live.error
                break
            if self.stop_reason is not None:
                status = "stopped"
                break
            if elapsed >= self.args.deadline:
                status, self.stop_reason = "aborted", f"deadline of {self.args.deadline:.0f} s"
                break
            if self.driver.ended(elapsed - END_HOLD_S):
                break
        self.stop_players()
        return status

    def stop_players(self) -> None:
        """Scale to no players (each finishes its action), then collect the last seconds.

        Not Locust's ``stop()``: a worker handling that message sleeps ``stop_timeout`` in
        its message loop and would miss our quit.
        """
        if self.runner.shape_greenlet is not None:
            self.runner.shape_greenlet.kill(block=True)
            self.runner.shape_greenlet = None
        stopper = gevent.spawn(self.runner.start, 0, STOP_RATE)
        asked_at = int(self.elapsed())
        until = time.monotonic() + self.args.stop_timeout + 2.0
        while time.monotonic() < until and not (stopper.dead and self.players_gone(asked_at)):
            self.check_workers()
            gevent.sleep(0.2)
        last = int(self.elapsed())
        drain_until = time.monotonic() + DRAIN_S
        assert self.recorder is not None
        while time.monotonic() < drain_until and not self.recorder.all_reported(last):
            self.check_workers()
            gevent.sleep(0.2)
        behind = [w for w in self.recorder.workers if self.recorder.last_reported(w) < last]
        if behind:  # their seconds after their last report are not in the records
            reported = {w: self.recorder.last_reported(w) for w in behind}
            logging.warning("drain: second %d not reported in %.0f s: %s", last, DRAIN_S, reported)

    def players_gone(self, since_t: int) -> bool:
        """Every worker still here has reported, for a second after ``since_t``, that none of
        its players is left: each finished its action (the master's own count drops as
        soon as the stop is dispatched, before the players end their requests)."""
        here = [name for name in self.names.values() if name not in self.lost]
        return all(
            name in self.alive and self.alive[name][0] > since_t and self.alive[name][1] == 0
            for name in here
        )

    def request_stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason


def main(argv: list[str] | None = None) -> int:
    try:
        args = MasterArgs.parse(sys.argv[1:] if argv is None else argv)
    except ArgvError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_ARGV
    logging.basicConfig(level=logging.INFO, format="%(asctime)s master %(levelname)s %(message)s")
    try:
        master = Master(args)
    except LocustfileError as error:  # the user's locustfile: said in the run's outcome
        logging.error("%s", error)
        LiveWriter(args.live).emit(Ended(status="aborted", reason=str(error)))
        return EXIT_BAD_ARGV
    gevent.signal_handler(signal.SIGTERM, master.request_stop, "stopped by the runner")
    if not master.wait_for_workers():
        ready = len(master.runner.clients.ready)
        reason = f"{ready} of {args.expect_workers} workers connected"
        master.live.emit(Ended(status="aborted", reason=reason))
        master.runner.quit()
        return EXIT_NO_WORKERS
    master.start()
    status = master.run()
    master.publish(final=True)
    assert master.recorder is not None
    try:
        files = write_outputs(master.recorder, args.run_dir, master.histogram_parts)
    except OSError as error:
        reason = f"cannot write the load files: {error.strerror or error}"
        logging.error("%s (%s)", reason, error)
        said = "; ".join(r for r in (master.stop_reason, reason) if r)
        master.live.emit(Ended(status="aborted", reason=said))
        master.runner.quit()
        return EXIT_WRITE_FAILED
    master.live.emit(
        Ended(
            status=status,
            reason=master.stop_reason,
            files=[str(f) for f in files],
            late_reports=master.recorder.late_reports,
            cut_requests=master.recorder.cut_requests,
            lost_workers=sorted(master.lost),
        )
    )
    if master.runner.state != STATE_STOPPED:
        logging.info("players still stopping at exit (state %s)", master.runner.state)
    master.runner.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
