"""Run one service process: ``python -m spikekit.reference_platform.serve MODULE:FACTORY PORT``."""

from __future__ import annotations

import sys

import uvicorn

from spikekit.ports import LOOPBACK


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m spikekit.reference_platform.serve MODULE:FACTORY PORT")
    app, port = argv
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
