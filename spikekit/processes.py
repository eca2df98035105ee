"""Child processes of the stack: started with a parent-death signal, stopped by PID.

Every process the supervisor starts gets ``PR_SET_PDEATHSIG`` so that it dies
with the supervisor, even when the supervisor is SIGKILLed. The kernel sends
that signal when the *thread* that forked the child exits, so children must be
spawned from a long-lived thread (the supervisor's main thread).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(sig: int, parent_pid: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec (after setuid)
        _libc.prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return setup


@dataclass(frozen=True)
class ProcessRef:
    """A process we started, identified by PID and start time so a reused PID is never hit."""

    name: str
    pid: int
    create_time: float

    def process(self) -> psutil.Process | None:
        """The live process, or None when it has ended (or the PID now belongs to another)."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 0.5:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except psutil.NoSuchProcess:
            return None

    def is_alive(self) -> bool:
        return self.process() is not None


class ManagedProcess:
    """One child of ours: its Popen, its log file and how it likes to be stopped."""

    def __init__(
        self,
        name: str,
        popen: subprocess.Popen[bytes],
        log_file: Path,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.popen = popen
        self.log_file = log_file
        self.stop_signal = stop_signal
        self.ref = ProcessRef(name, popen.pid, psutil.Process(popen.pid).create_time())

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the process to stop, then kill it if it has not ended within ``timeout``."""
        if self.popen.poll() is not None:
            return
        try:
            self.popen.send_signal(self.stop_signal)
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
        except ProcessLookupError:
            pass

    def ask_to_stop(self) -> None:
        """Send the stop signal and return (:func:`stop_together` waits)."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(self.stop_signal)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def stop_together(processes: Sequence[ManagedProcess], timeout: float = 10.0) -> None:
    """Ask every process to stop at once, then wait for each, killing one that has not
    ended by the shared deadline: one graceful shutdown's time, not one per process."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.ask_to_stop()
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.popen.wait(max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(5)


def spawn(
    name: str,
    argv: Sequence[str],
    log_file: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    stop_signal: int = signal.SIGTERM,
    death_signal: int = signal.SIGTERM,
) -> ManagedProcess:
    """Start ``argv`` with its output in ``log_file``; it dies with this process.

    The child gets its own process group, so a Ctrl-C in the terminal is handled by us
    (an orderly stop: faults reverted, files written) rather than by every child at once.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            user=user,
            preexec_fn=_die_with_parent(death_signal, os.getpid()),
        )
    return ManagedProcess(name, popen, log_file, stop_signal)


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.05,
    alive: Callable[[], bool] = lambda: True,
) -> bool:
    """Poll ``check`` until it is true, ``alive`` turns false, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        if not alive():
            return False
        time.sleep(interval)
    return check()


def terminate_refs(refs: Sequence[ProcessRef], timeout: float = 10.0) -> list[ProcessRef]:
    """Stop processes we started earlier (by PID and start time); returns those that survived."""
    procs = [p for p in (ref.process() for ref in refs) if p is not None]
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    return [ref for ref in refs if ref.is_alive()]
