"""Process faults on the bundled platform's services, by PID and start time from stack.json.

- ``process.sigstop``: SIGSTOP every replica (or one) while the fault is on; the revert
  SIGCONTs those still alive. A stopped service holds its sockets: clients time out.
- ``process.kill``: SIGKILL (or SIGTERM); with ``restart`` the supervisor starts it again
  after ``restart_after``, without it the service stays down until the fault ends.

The queue family reuses both on the consumers of a stream (:mod:`spikekit.chaos.queue`).
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from typing import Any

from spikekit.chaos.base import Fault, RevertRecord, register
from spikekit.chaos.stack_ops import (
    DelayedStart,
    ProcessesDown,
    ProcessesStopped,
    Target,
    find_services,
    send_signal,
    wait_gone,
)
from spikekit.scenarios.faults import ProcessKill, ProcessSigstop

__all__ = ["KillFault", "SigstopFault", "kill_processes", "stop_processes"]


def stop_processes(fault: Fault[Any], targets: Sequence[Target]) -> RevertRecord:
    """SIGSTOP ``targets``; the record SIGCONTs them."""
    stopped: list[Target] = []
    try:
        for target in targets:
            if send_signal(target, signal.SIGSTOP):
                stopped.append(target)
    except BaseException:
        ProcessesStopped(processes=stopped).undo(fault.ctx)
        raise
    if not stopped:
        raise fault.error(f"no live process to stop ({', '.join(t.name for t in targets)})")
    return ProcessesStopped(processes=stopped)


def kill_processes(
    fault: Fault[Any], targets: Sequence[Target], sig: signal.Signals
) -> ProcessesDown:
    """Signal ``targets`` and wait until they are gone; the record starts them again."""
    assert fault.ctx.state_dir is not None
    for target in targets:
        send_signal(target, sig)
    if not wait_gone(targets, timeout=15):
        alive = [t.name for t in targets if t.ref().is_alive()]
        raise fault.error(f"still alive 15 s after {sig.name}: {', '.join(alive)}")
    return ProcessesDown(state_dir=str(fault.ctx.state_dir), names=[t.name for t in targets])


@register("process.sigstop")
class SigstopFault(Fault[ProcessSigstop]):
    """The service's processes frozen with SIGSTOP until the revert's SIGCONT."""

    def _targets(self) -> list[Target]:
        return find_services(self.ctx.stack(), [self.spec.service.value], self.spec.replica)

    def check(self) -> None:
        self._targets()

    def _inject(self) -> RevertRecord:
        return stop_processes(self, self._targets())


@register("process.kill")
class KillFault(Fault[ProcessKill]):
    """The service's processes killed; restarted after ``restart_after`` or on revert."""

    _restart: DelayedStart | None = None

    def _targets(self) -> list[Target]:
        return find_services(self.ctx.stack(), [self.spec.service.value], self.spec.replica)

    def check(self) -> None:
        self._targets()

    def _inject(self) -> RevertRecord:
        record = kill_processes(self, self._targets(), signal.Signals[self.spec.signal])
        if self.spec.restart:
            self._restart = DelayedStart(record, self.spec.restart_after, self.ctx)
        return record

    def _release(self) -> None:
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
