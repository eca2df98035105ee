"""The owner of a scheduler for the length of a run: the "always revert" guarantee.

    with ChaosRun(scheduler) as run:      # SIGINT/SIGTERM now raise KeyboardInterrupt
        run.wait()                          # or: the runner drives the load meanwhile
    # here every fault is reverted, however the block ended; handlers are restored

The scheduler runs on its own thread. On the way out the scheduler is stopped and every
fault still on is reverted concurrently, with SIGINT and SIGTERM held off so that a second
Ctrl-C cannot cut the reverts short (they are remembered and re-raised afterwards).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

from spikekit.chaos.schedule import Scheduler

__all__ = ["ChaosRun"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ChaosRun:
    """Runs ``scheduler`` on a thread; reverts everything on exit (signals included)."""

    def __init__(self, scheduler: Scheduler, *, handle_signals: bool = True) -> None:
        self.scheduler = scheduler
        self.handle_signals = (
            handle_signals and threading.current_thread() is threading.main_thread()
        )
        self._previous: dict[signal.Signals, Any] = {}
        self._thread = threading.Thread(target=self._run, name="chaos-scheduler", daemon=True)
        self.error: BaseException | None = None
        self.interrupted_by: str | None = None
        self._held: list[int] = []

    def _run(self) -> None:
        try:
            self.scheduler.run()
        except BaseException as error:  # surfaced by wait()
            self.error = error

    def _interrupt(self, signum: int, _frame: FrameType | None) -> None:
        self.interrupted_by = signal.Signals(signum).name
        raise KeyboardInterrupt(self.interrupted_by)

    def _hold(self, signum: int, _frame: FrameType | None) -> None:
        self._held.append(signum)

    def __enter__(self) -> ChaosRun:
        if self.handle_signals:
            for sig in _SIGNALS:
                self._previous[sig] = signal.signal(sig, self._interrupt)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every scheduled action is done (True) or ``timeout`` passes."""
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        return not self._thread.is_alive()

    def abort(self, reason: str) -> None:
        """End the run early (a stop condition); the faults are reverted on exit."""
        self.scheduler.abort(reason)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.handle_signals:
            for sig in _SIGNALS:
                signal.signal(sig, self._hold)
        try:
            self.scheduler.stop()
            self._thread.join(30)
            self.scheduler.revert_all()
        finally:
            if self.handle_signals:
                for sig, handler in self._previous.items():
                    signal.signal(sig, handler)
        if self._held and exc_type is None:
            raise KeyboardInterrupt(signal.Signals(self._held[0]).name)
