"""Acting on the processes of a running stack: by PID and start time, never by name.

Shared by the process, database, cache and queue families: find a service's or backing
service's processes in ``stack.json``, signal them (only when the PID still belongs to
the process started then), wait for them to go, and ask the supervisor to start them
again (:func:`spikekit.reference_platform.control_api.request_start`). The two revert
records here are what those faults leave in the journal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import psutil
from pydantic import BaseModel, ConfigDict

from spikekit.chaos.base import FaultConfigError, RevertRecord
from spikekit.errors import ChaosError, StackError
from spikekit.processes import ProcessRef
from spikekit.reference_platform.control_api import request_start
from spikekit.reference_platform.state import ProcessInfo, StackState

if TYPE_CHECKING:
    from spikekit.chaos.context import ChaosContext

__all__ = [
    "ProcessesDown",
    "ProcessesStopped",
    "Target",
    "ensure_running",
    "find_backing",
    "find_services",
    "send_signal",
    "wait_gone",
]


class Target(BaseModel):
    """One process as the journal keeps it: name in stack.json, PID and start time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    pid: int
    create_time: float

    @classmethod
    def of(cls, info: ProcessInfo) -> Target:
        return cls(name=info.name, pid=info.pid, create_time=info.create_time)

    def ref(self) -> ProcessRef:
        return ProcessRef(self.name, self.pid, self.create_time)


def find_services(
    state: StackState, names: Sequence[str], replica: int | None = None
) -> list[Target]:
    """Processes of the services called ``names`` (one replica, or all)."""
    found = [
        Target.of(s)
        for s in state.services
        if s.service in names and (replica is None or s.replica == replica)
    ]
    if "haproxy" in names and state.balancer is not None:  # the players' door
        found.append(Target.of(state.balancer))
    if not found:
        running = ", ".join(sorted({s.service for s in state.services})) or "none"
        which = "/".join(names) + ("" if replica is None else f" replica {replica}")
        raise FaultConfigError(which, f"no such service in the running stack (running: {running})")
    return found


def find_backing(state: StackState, kind: str) -> Target:
    """The PostgreSQL or Redis process of the stack."""
    for backing in state.backing:
        if backing.kind == kind:
            return Target.of(backing)
    raise FaultConfigError(kind, "not part of the running stack")


def send_signal(target: Target, sig: signal.Signals) -> bool:
    """Signal ``target`` if the PID is still that process; False when it is gone."""
    process = target.ref().process()
    if process is None:
        return False
    try:
        process.send_signal(sig)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied as error:
        raise ChaosError(
            target.name, f"not allowed to send {sig.name} to PID {target.pid}"
        ) from error
    return True


def wait_gone(targets: Sequence[Target], timeout: float = 15.0) -> bool:
    """Wait until every target has exited; False if one is still there after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(t.ref().is_alive() for t in targets):
            return True
        time.sleep(0.02)
    return not any(t.ref().is_alive() for t in targets)


def _is_running(state: StackState, name: str) -> bool:
    info = next((p for p in state.processes() if p.name == name), None)
    return info is not None and info.ref().is_alive()


def ensure_running(
    state_dir: Path, names: Sequence[str], *, keep_data: bool = False, timeout: float = 60.0
) -> str:
    """Ask the supervisor to start whichever of ``names`` is not running; returns the outcome."""
    from spikekit.reference_platform import state as state_file

    state = state_file.load(state_dir)
    if state is None:
        return "platform gone: nothing to start"
    started: list[str] = []
    for name in names:
        if _is_running(state, name):
            continue
        try:
            request_start(state_dir, name, keep_data=keep_data, timeout=timeout)
        except StackError as error:
            raise ChaosError(name, str(error)) from None
        started.append(name)
    return f"started {', '.join(started)}" if started else "already running"


class ProcessesStopped(RevertRecord):
    """SIGSTOPped processes: the revert SIGCONTs those that are still the same process."""

    kind: Literal["process.stopped"] = "process.stopped"
    processes: list[Target]

    def undo(self, ctx: ChaosContext) -> str:
        resumed = [t.name for t in self.processes if send_signal(t, signal.SIGCONT)]
        return f"SIGCONT {', '.join(resumed)}" if resumed else "already gone"


class ProcessesDown(RevertRecord):
    """Processes a fault stopped: the revert has the supervisor start them again."""

    kind: Literal["process.down"] = "process.down"
    state_dir: str
    names: list[str]
    keep_data: bool = False

    def undo(self, ctx: ChaosContext) -> str:
        return ensure_running(
            Path(self.state_dir),
            self.names,
            keep_data=self.keep_data,
            timeout=ctx.restart_timeout_s,
        )


class DelayedStart:
    """Starts processes again after a delay, on a daemon thread; :meth:`cancel` stops it."""

    def __init__(self, record: ProcessesDown, delay_s: float, ctx: ChaosContext) -> None:
        self._record = record
        self._ctx = ctx
        self._cancelled = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(delay_s,), name=f"restart-{'-'.join(record.names)}", daemon=True
        )
        self._thread.start()

    def _run(self, delay_s: float) -> None:
        if self._cancelled.wait(delay_s):
            return
        try:
            self._record.undo(self._ctx)
        except (ChaosError, OSError) as error:
            self.error = error

    def cancel(self) -> None:
        self._cancelled.set()
        with contextlib.suppress(RuntimeError):
            self._thread.join(self._ctx.restart_timeout_s)
