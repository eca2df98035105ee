"""Run faults on the run's clock: inject at the planned offset, revert after the duration.

One scheduler thread waits (on a monotonic clock) for the next due action and hands it to
a worker thread, so a slow inject never delays another fault: faults start within a few
milliseconds of their offsets and may overlap. Every step is an event for the sinks (the
journal first): ``fault_planned``, ``fault_injected`` (with the planned time, the actual
one and the revert record), ``fault_reverted`` (ok or not, with the outcome),
``fault_error``, ``run_aborted``.

A fault with a :class:`SteadyGate` is injected only when the platform is steady (no
breach of its SLOs): at its time the gate is asked for breaches; while there are some the
fault waits (``fault_waiting``, once, with the breaches), asking again every
``poll_s``, up to ``within_s`` (and never past the fault's planned end); still not steady,
it is skipped (``fault_skipped``, "platform not steady", with the last breaches).

:class:`ChaosRun` owns a scheduler for the length of a run and is the "always revert"
guarantee: every fault still on is reverted when its ``with`` block ends, however it ends
(normally, by exception, by Ctrl-C or SIGTERM, which it turns into KeyboardInterrupt and
restores afterwards).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from spikekit.chaos.base import Fault
from spikekit.rundir.journal import (
    EventSink,
    FaultError,
    FaultInjected,
    FaultPlanned,
    FaultReverted,
    FaultSkipped,
    FaultWaiting,
    JournalEvent,
    RunAbortedEvent,
)

__all__ = [
    "NOT_STEADY",
    "Clock",
    "FaultRun",
    "InlineExecutor",
    "MonotonicClock",
    "ScheduledFault",
    "Scheduler",
    "SteadyGate",
]

#: The reason of a skipped fault, as the journal and the report say it.
NOT_STEADY = "platform not steady"


class Clock(Protocol):
    """The run's clock: seconds since the run started, and an interruptible wait."""

    def now(self) -> float: ...

    def wait(self, seconds: float, interrupt: threading.Event) -> bool:
        """Sleep up to ``seconds``; True when ``interrupt`` was set meanwhile."""
        ...


class MonotonicClock:
    """The real clock, from ``started`` (a ``time.monotonic()`` value, default now)."""

    def __init__(self, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started

    def now(self) -> float:
        return time.monotonic() - self.started

    def wait(self, seconds: float, interrupt: threading.Event) -> bool:
        return interrupt.wait(max(0.0, seconds))


class InlineExecutor(Executor):
    """Runs each task at once on the calling thread (deterministic tests, fake clocks)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


@dataclass(frozen=True)
class SteadyGate:
    """When a fault may go on: ``breaches()`` lists the SLOs the platform is out of now
    (one line each, empty = steady); the fault waits for none up to ``within_s``."""

    breaches: Callable[[], list[str]]
    within_s: float
    poll_s: float = 1.0


@dataclass
class ScheduledFault:
    fault: Fault[Any]
    planned_t: float
    duration_s: float | None = None  # None: until the run ends or it is reverted
    steady: SteadyGate | None = None

    @property
    def planned_end_t(self) -> float | None:
        return None if self.duration_s is None else self.planned_t + self.duration_s


@dataclass
class FaultRun:
    """What happened to one scheduled fault, on the run's clock."""

    fault_id: str
    planned_t: float
    planned_end_t: float | None
    started_t: float | None = None
    injected_t: float | None = None
    reverted_t: float | None = None
    error: str | None = None
    outcome: str | None = None
    #: The breaches that kept a skipped fault out (None: not skipped).
    skipped: list[str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def lag_s(self) -> float | None:
        """How late the inject started compared with the plan."""
        return None if self.started_t is None else self.started_t - self.planned_t


class Scheduler:
    """Injects and reverts ``entries`` on ``clock``; :meth:`run` blocks until all are done.

    ``run_end_t`` reverts the faults without a duration at the run's end (None: they stay
    on until :meth:`revert_all`).
    """

    def __init__(
        self,
        entries: Sequence[ScheduledFault],
        *,
        clock: Clock | None = None,
        sinks: Sequence[EventSink] = (),
        run_end_t: float | None = None,
        executor: Executor | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.entries = list(entries)
        self.clock = clock or MonotonicClock()
        self.sinks = list(sinks)
        self.run_end_t = run_end_t
        self.runs = {
            e.fault.fault_id: FaultRun(e.fault.fault_id, e.planned_t, e.planned_end_t)
            for e in self.entries
        }
        self._executor = executor or ThreadPoolExecutor(
            max_workers=max(4, 2 * len(self.entries)), thread_name_prefix="chaos"
        )
        self._owns_executor = executor is None
        self._futures: list[Future[None]] = []
        self._injects: dict[str, Future[None]] = {}
        self._stopped = threading.Event()
        self._wall = wall
        self.aborted: str | None = None

    # -- events ----------------------------------------------------------------------------

    def _stamp(self) -> dict[str, float]:
        return {"ts": self._wall(), "t": round(self.clock.now(), 6)}

    def emit(self, event: JournalEvent) -> None:
        for sink in self.sinks:
            sink(event)

    def _ids(self, fault: Fault[Any]) -> dict[str, str]:
        return {"fault_id": fault.fault_id, "fault": fault.fault_type, "target": fault.target}

    # -- the loop ----------------------------------------------------------------------------

    def actions(self) -> list[tuple[float, int, str, ScheduledFault]]:
        """Every inject and revert, as (due t, order, "inject"|"revert", entry), sorted."""
        actions: list[tuple[float, int, str, ScheduledFault]] = []
        for index, entry in enumerate(self.entries):
            actions.append((entry.planned_t, 2 * index + 1, "inject", entry))
            end = entry.planned_end_t if entry.duration_s is not None else self.run_end_t
            if end is not None:
                actions.append((end, 2 * index, "revert", entry))  # reverts first on a tie
        return sorted(actions, key=lambda a: (a[0], a[1]))

    def run(self) -> None:
        """Plan, then inject and revert on time until every action is done or :meth:`stop`."""
        for entry in self.entries:
            fault = entry.fault
            self.emit(
                FaultPlanned(
                    **self._stamp(),
                    **self._ids(fault),
                    planned_t=entry.planned_t,
                    duration_s=entry.duration_s,
                    params=fault.params,
                )
            )
        heap = self.actions()
        heapq.heapify(heap)
        while heap and not self._stopped.is_set():
            due, _, kind, entry = heap[0]
            remaining = due - self.clock.now()
            if remaining > 0:
                self.clock.wait(remaining, self._stopped)
                continue
            heapq.heappop(heap)
            if kind == "inject":
                future = self._executor.submit(self._inject, entry)
                self._injects[entry.fault.fault_id] = future
            else:
                future = self._executor.submit(self._revert, entry, due)
            self._futures.append(future)
        wait(self._futures)

    def stop(self) -> None:
        """End :meth:`run` early (faults stay on until :meth:`revert_all`)."""
        self._stopped.set()

    def abort(self, reason: str) -> None:
        """A stop condition fired: journal ``run_aborted`` and stop."""
        if self.aborted is None:
            self.aborted = reason
            self.emit(RunAbortedEvent(**self._stamp(), reason=reason))
        self.stop()

    # -- one fault ---------------------------------------------------------------------------

    def _steady(self, entry: ScheduledFault) -> bool:
        """Wait for the fault's gate; False when it is skipped (journaled) or the run stops."""
        gate, fault = entry.steady, entry.fault
        if gate is None:
            return True
        deadline = entry.planned_t + gate.within_s
        if entry.planned_end_t is not None:
            deadline = min(deadline, entry.planned_end_t)
        breaches = gate.breaches()
        if not breaches:
            return True
        self.emit(
            FaultWaiting(
                **self._stamp(),
                **self._ids(fault),
                planned_t=entry.planned_t,
                within_s=gate.within_s,
                breaches=breaches,
            )
        )
        while breaches:
            left = deadline - self.clock.now()
            if left <= 0:
                self.runs[fault.fault_id].skipped = breaches
                self.emit(
                    FaultSkipped(
                        **self._stamp(),
                        **self._ids(fault),
                        planned_t=entry.planned_t,
                        waited_s=round(self.clock.now() - entry.planned_t, 6),
                        reason=NOT_STEADY,
                        breaches=breaches,
                    )
                )
                return False
            if self.clock.wait(min(gate.poll_s, left), self._stopped):
                return False
            breaches = gate.breaches()
        return True

    def _inject(self, entry: ScheduledFault) -> None:
        fault, run = entry.fault, self.runs[entry.fault.fault_id]
        if not self._steady(entry):
            return
        with run.lock:
            if self._stopped.is_set() or run.started_t is not None:
                return
            run.started_t = self.clock.now()
            try:
                record = fault.inject()
            except Exception as error:
                run.error = str(error)
                self.emit(
                    FaultError(
                        **self._stamp(), **self._ids(fault), phase="inject", error=str(error)
                    )
                )
                return
            run.injected_t = self.clock.now()
            self.emit(
                FaultInjected(
                    **self._stamp(),
                    **self._ids(fault),
                    planned_t=entry.planned_t,
                    started_t=round(run.started_t, 6),
                    params=fault.params,
                    revert=record.to_json(),
                )
            )

    def _revert(self, entry: ScheduledFault, planned_t: float | None) -> None:
        fault, run = entry.fault, self.runs[entry.fault.fault_id]
        inject = self._injects.get(fault.fault_id)
        if inject is not None:
            inject.result()
        with run.lock:
            if not fault.active:
                return
            try:
                run.outcome = fault.revert()
            except Exception as error:
                run.error = str(error)
                self.emit(
                    FaultReverted(
                        **self._stamp(),
                        **self._ids(fault),
                        ok=False,
                        error=str(error),
                        planned_t=planned_t,
                    )
                )
                self.emit(
                    FaultError(
                        **self._stamp(), **self._ids(fault), phase="revert", error=str(error)
                    )
                )
                return
            run.reverted_t = self.clock.now()
            self.emit(
                FaultReverted(
                    **self._stamp(),
                    **self._ids(fault),
                    ok=True,
                    planned_t=planned_t,
                    outcome=run.outcome,
                )
            )

    def revert_all(self) -> None:
        """Revert every fault still on, all at once; each outcome is an event."""
        self.stop()
        pending = [self._executor.submit(self._revert, e, None) for e in self.entries]
        wait(pending)
        if self._owns_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def active(self) -> list[str]:
        return [e.fault.fault_id for e in self.entries if e.fault.active]
