"""Faults of the toolkit itself during a load run, noticed by the orchestrating process.

The :class:`~spikekit.load.runner.LoadRunner` owns one :class:`Watchdog` and calls it
while it follows the run. Each fault becomes a
:class:`~spikekit.load.result.GeneratorIncident`, fired on the ``incident`` hook at once
and kept in :attr:`Watchdog.incidents`:

- a local worker that exits during the run, or one the master reports lost
  (:meth:`Watchdog.worker_lost_by_master`), is a *data hole* and the run goes on;
- a master that dies without writing its files ends the load at once
  (:meth:`Watchdog.master_died`: the workers are sent SIGTERM, which flushes their
  records) and the result is aborted;
- a run folder whose disk is full (less than :data:`MIN_FREE_BYTES` free, checked every
  :data:`DISK_CHECK_S`), or a process that exits with
  :data:`~spikekit.load.process_args.EXIT_WRITE_FAILED`, stops the load, aborted.

The watchdog knows the run only through :class:`WatchedRun`, which the runner implements.
"""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from spikekit.load.events import LoadEvents
from spikekit.load.process_args import EXIT_WRITE_FAILED
from spikekit.load.result import GeneratorIncident, IncidentKind
from spikekit.processes import ManagedProcess
from spikekit.rundir.layout import records_of_worker

#: Below this much free space on the run folder's disk, the run stops (files would fail).
MIN_FREE_BYTES = 1 << 20
DISK_CHECK_S = 1.0


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


class WatchedRun(Protocol):
    """What the watchdog needs of the run it watches (the runner)."""

    @property
    def master(self) -> ManagedProcess | None: ...

    @property
    def workers(self) -> Sequence[ManagedProcess]: ...

    @property
    def started_at(self) -> float | None: ...

    def catch_up(self) -> bool:
        """Handle the master's lines not read yet; True when the master ended the run."""
        ...

    def killed_by_us(self, name: str) -> bool:
        """Whether the runner itself killed process ``name`` (hard deadline)."""
        ...

    def stop(self, reason: str) -> None:
        """Ask the master to stop its players and write its files."""
        ...


class Watchdog:
    def __init__(
        self,
        run: WatchedRun,
        run_dir: Path,
        network_timeout_s: float,
        events: LoadEvents,
        min_free_bytes: int = MIN_FREE_BYTES,
    ) -> None:
        self.run = run
        self.run_dir = run_dir
        self.network_timeout_s = network_timeout_s
        self.events = events
        self.min_free_bytes = min_free_bytes
        self.incidents: list[GeneratorIncident] = []
        self.master_lost = False
        self._lost_pids: set[int] = set()
        self._next_disk_check = 0.0

    @property
    def write_failed(self) -> bool:
        """Whether files of the run could not be written (the load was stopped)."""
        return any(
            i.kind in (IncidentKind.DISK_FULL, IncidentKind.WRITE_FAILED) for i in self.incidents
        )

    def _elapsed(self) -> float:
        started_at = self.run.started_at
        return time.time() - started_at if started_at is not None else 0.0

    def _incident(self, incident: GeneratorIncident) -> None:
        self.incidents.append(incident)
        self.events.incident.fire(incident)

    def _records_of(self, index: int) -> tuple[str, ...]:
        return records_of_worker(index)

    def _in_flight_from(self) -> float:
        """Acks are flushed every second; a request in flight may have been applied up to a
        network timeout before its answer was due."""
        return time.time() - 1.5 - self.network_timeout_s

    def watch_workers(self) -> None:
        """A local worker that exits while the master runs: its records have a hole."""
        workers = self.run.workers
        for index, worker in enumerate(workers):
            code = worker.poll()
            if code is None or worker.pid in self._lost_pids:
                continue
            if self.run.catch_up():  # the master may have ended the run meanwhile
                return  # workers leave with their master: not lost
            self._lost_pids.add(worker.pid)
            if self.run.killed_by_us(worker.name):
                continue  # ours (hard deadline)
            if code == EXIT_WRITE_FAILED:  # every record after this is lost: the run stops
                self.cannot_write(f"{worker.name} (PID {worker.pid}) could not write its records")
                continue
            left = sum(1 for w in workers if w.poll() is None)
            self._incident(
                GeneratorIncident(
                    t=self._elapsed(),
                    kind=IncidentKind.WORKER_LOST,
                    subject=worker.name,
                    detail=(
                        f"generator lost {worker.name} (PID {worker.pid}, {exit_text(code)}) "
                        f"at t={self._elapsed():.0f} s; {left} of {len(workers)} local "
                        "workers left: its acknowledgements since its last flush and its "
                        "requests in flight are not in the records"
                    ),
                    records_lost_from_ts=self._in_flight_from(),
                    records_of=self._records_of(index),
                )
            )

    def worker_lost_by_master(self, pid: int, name: str, last_t: int, t: float | None) -> None:
        """The master's heartbeat lost a worker: a remote one, or a local one not seen yet.

        ``pid``: its process id (0: unknown); ``last_t``: the last second it reported;
        ``t``: when the master noticed (None: not said).
        """
        local = next((w for w in self.run.workers if pid and w.pid == pid), None)
        if local is not None:
            self.watch_workers()
            if pid in self._lost_pids:
                return
            # alive yet lost (hung, cut off): kill it so that it cannot come back half-way
            local.popen.kill()
            local.popen.wait(5)
            self.watch_workers()
            return
        started = self.run.started_at or time.time()
        self._incident(
            GeneratorIncident(
                t=t if t is not None else self._elapsed(),
                kind=IncidentKind.WORKER_LOST,
                subject=name,
                detail=(
                    f"generator lost {name} at t={t or 0.0:.0f} s (no "
                    f"heartbeat; last second reported: {last_t}): its records since are lost"
                ),
                records_lost_from_ts=started + last_t + 1 - self.network_timeout_s,
                records_of=(),  # a remote worker's files are not here: every player
            )
        )

    def master_died(self) -> None:
        """The master ended without writing its files: stop the workers now (SIGTERM makes
        them flush their records), and say so."""
        master = self.run.master
        assert master is not None
        code = master.poll()
        self.master_lost = True
        for worker in self.run.workers:
            if worker.poll() is None:
                worker.popen.send_signal(signal.SIGTERM)
        reason = (
            f"the Locust master (PID {master.pid}) died at t={self._elapsed():.0f} s "
            f"({exit_text(code)}) before writing its files"
        )
        self.run.stop(reason)
        self._incident(
            GeneratorIncident(
                t=self._elapsed(),
                kind=IncidentKind.MASTER_LOST,
                subject="load-master",
                detail=f"{reason}: the load stopped; the workers were stopped and their "
                "requests in flight are not in the records",
                records_lost_from_ts=self._in_flight_from(),
                records_of=(),
            )
        )

    def _free_bytes(self) -> int | None:
        try:
            return shutil.disk_usage(self.run_dir).free
        except OSError:
            return None

    def watch_disk(self, *, at_once: bool = False, detail: str = "") -> None:
        """Every :data:`DISK_CHECK_S` (or ``at_once``): less than ``min_free_bytes`` free
        stops the load; ``detail`` says what failed to be written, if something did."""
        now = time.monotonic()
        if now < self._next_disk_check and not at_once:
            return
        self._next_disk_check = now + DISK_CHECK_S
        free = self._free_bytes()
        if free is not None and free < self.min_free_bytes:
            self.cannot_write(detail)

    @property
    def write_failure(self) -> str | None:
        """What the first write failure was, said for people (None: there was none)."""
        return next(
            (
                i.detail
                for i in self.incidents
                if i.kind in (IncidentKind.DISK_FULL, IncidentKind.WRITE_FAILED)
            ),
            None,
        )

    def cannot_write(self, detail: str) -> None:
        """Files of the run cannot be written: stop the load (once)."""
        if self.write_failed:
            return
        kind = IncidentKind.WRITE_FAILED
        free = self._free_bytes()
        if free is not None and free < self.min_free_bytes:
            kind = IncidentKind.DISK_FULL
            full = f"the run folder's disk is full ({free:,} bytes free on {self.run_dir})"
            detail = f"{full}: {detail}" if detail else full
        self._incident(
            GeneratorIncident(
                t=self._elapsed(),
                kind=kind,
                subject=str(self.run_dir),
                detail=f"{detail}; what could not be written is lost",
                records_lost_from_ts=self._in_flight_from(),
                records_of=(),
            )
        )
        self.run.stop(detail)
