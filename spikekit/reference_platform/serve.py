"""Run one service process: ``python -m spikekit.reference_platform.serve MODULE:FACTORY PORT``."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

import uvicorn

from spikekit.ports import LOOPBACK
from spikekit.reference_platform.common import oplog


def _flush_then_stop(signum: int, _frame: FrameType | None) -> None:
    """Uvicorn re-raises the signal that stopped it under the handler it found: ours."""
    oplog.flush_at_exit()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m spikekit.reference_platform.serve MODULE:FACTORY PORT")
    app, port = argv
    oplog.configure(
        os.environ.get("SPIKEKIT_SERVICE", app), os.environ.get("SPIKEKIT_REPLICA", "0")
    )
    oplog.event("started", "info", pid=os.getpid(), port=int(port))
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _flush_then_stop)
    uvicorn.run(
        app,
        factory=True,
        host=LOOPBACK,
        port=int(port),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        backlog=4096,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
