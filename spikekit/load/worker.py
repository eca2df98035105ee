"""A Locust worker process: ``python -m spikekit.load.worker --master HOST``.

The same entry serves the local workers the runner starts and remote workers on other
machines (``spikekit worker --master HOST``); its command line is
:class:`~spikekit.load.process_args.WorkerArgs`. It needs no scenario: the master sends it
(``spikekit_setup``) before the first players spawn. Acknowledged transactions go to
``--acks-file`` on this machine; with ``--raw-samples FILE`` every request is also logged
there (:class:`~spikekit.load.worker_stats.RawSampleLog`). SIGTERM flushes those files and
ends the process at once. When its records cannot be written (disk full) it logs why and
exits with :data:`~spikekit.load.process_args.EXIT_WRITE_FAILED`: a worker that plays on
without recording would make every acknowledgement after that point look like the
platform's invention.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import WorkerRunner

from spikekit.load.context import WorkerContext
from spikekit.load.http import PoolLimits
from spikekit.load.journeys import PERSONAS
from spikekit.load.personas import PlayersEnvironment
from spikekit.load.process_args import EXIT_BAD_ARGV, EXIT_WRITE_FAILED, ArgvError, WorkerArgs
from spikekit.load.protocol import SETUP_MESSAGE, Setup
from spikekit.load.user_classes import LocustfileError, user_classes
from spikekit.load.worker_stats import RawSampleLog, WorkerStats
from spikekit.rundir.acks import AckLog, unacked_path


def default_acks_file() -> Path:
    return Path.cwd() / f"spikekit-acks-{socket.gethostname()}-{os.getpid()}.jsonl"


#: Allocations between two young-generation collections (CPython's default: 700).
GC_YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """The cyclic collector, tuned for a process that plays requests for its whole life.

    Everything alive before the players start (modules, Locust, the pool) lives as long as
    the process: frozen, full collections no longer walk it (about 5 % of a busy worker's
    CPU otherwise). And a request's objects are freed by reference counting, not by the
    collector, yet every 700 allocations the collector walked the objects of all players
    in flight (about 10 % more): it now runs every 50,000, which keeps the cyclic garbage
    between two collections to a few megabytes.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)


#: A handler of a message from the master: (the worker's runner, environment, message).
Handler = Callable[[WorkerRunner, Environment, Any], None]


class SetupFirstRunner(WorkerRunner):
    """Locust's worker runner, with spikekit's handlers registered before it connects.

    The master sends its setup as soon as every worker is ready; a starved worker may read
    it in the turn it reads the master's ack, still inside Locust's constructor — with a
    handler registered after ``create_worker_runner`` the setup was dropped ("unknown
    message type") and the worker never played. Each handler gets the runner itself (the
    environment's ``runner`` is not set yet at that point).
    """

    def __init__(
        self, environment: Environment, host: str, port: int, handlers: dict[str, Handler]
    ) -> None:
        self._handlers = handlers
        super().__init__(environment, host, port)

    def connect_to_master(self) -> None:
        for kind, handler in self._handlers.items():
            if kind not in self.custom_messages:
                self.register_message(kind, functools.partial(handler, self))
        super().connect_to_master()  # type: ignore[no-untyped-call]


def main(argv: list[str] | None = None) -> int:
    try:
        args = WorkerArgs.parse(sys.argv[1:] if argv is None else argv)
    except ArgvError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_ARGV
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    acks_file = args.acks_file or default_acks_file()
    acks, unacked = AckLog(acks_file), AckLog(unacked_path(acks_file))
    raw = RawSampleLog(args.raw_samples) if args.raw_samples is not None else None
    limits = PoolLimits(args.connections, args.network_timeout, args.connect_timeout)
    env = PlayersEnvironment(limits, user_classes=list(PERSONAS))
    stats: list[WorkerStats] = []

    def on_write_error(error: str) -> None:
        logging.error("%s: stopping (acknowledgements lost: %d)", error, acks.lost + unacked.lost)
        close_files()
        os._exit(EXIT_WRITE_FAILED)

    def on_setup(runner: WorkerRunner, environment: Environment, msg: Any, **_: Any) -> None:
        setup = Setup.from_wire(msg.data)
        try:  # the players: the personas, a locustfile, or the scenario's journeys
            env.user_classes = user_classes(setup.scenario)
        except LocustfileError as error:
            logging.error("%s", error)
            close_files()
            os._exit(EXIT_BAD_ARGV)
        ctx = WorkerContext.from_setup(setup, acks, unacked)
        env.worker_context = ctx
        worker_stats = WorkerStats(
            runner, f"worker-{setup.worker_index}", ctx, raw, on_write_error=on_write_error
        )
        environment.events.request.add_listener(worker_stats.on_request)  # type: ignore[no-untyped-call]
        stats.append(worker_stats)
        gevent.spawn(worker_stats.loop)
        logging.info("setup: worker %d of %d", setup.worker_index, setup.workers_total)

    def close_files() -> None:
        acks.close()
        unacked.close()
        if raw is not None:
            with contextlib.suppress(OSError):  # disk full: the CSV is an optional extra
                raw.close()

    def on_sigterm() -> None:
        close_files()
        os._exit(0)

    runner = SetupFirstRunner(env, args.master, args.master_port, {SETUP_MESSAGE: on_setup})
    env.runner = runner
    gevent.signal_handler(signal.SIGTERM, on_sigterm)
    tune_gc()
    try:
        runner.greenlet.join()
    finally:
        close_files()
    logging.info("worker done: %d acknowledged transactions", acks.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
