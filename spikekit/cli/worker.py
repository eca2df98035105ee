"""``spikekit worker --master HOST``: lend this machine's cores to a run on another machine.

The process becomes a Locust worker (``python -m spikekit.load.worker``, exec'd so that
gevent never loads into the CLI process). It needs no scenario: the master sends it.
Start the run on the main machine with the master bound to a reachable address and
expecting the extra workers (``LoadOptions(master_bind="0.0.0.0", remote_workers=N)``).
See docs/load-model.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from spikekit.cli.params import PORT, Host, Number, PathOf
from spikekit.errors import ConfigError
from spikekit.load.process_args import DEFAULT_CONNECTIONS, DEFAULT_MASTER_PORT, WorkerArgs


def worker_argv(
    master: str,
    master_port: int,
    acks_file: Path | None,
    connections: int,
) -> list[str]:
    """The command line of the worker process this command turns into."""
    args = WorkerArgs(
        master=master, master_port=master_port, acks_file=acks_file, connections=connections
    )
    return args.command(sys.executable)


def worker(
    master: Annotated[
        str, typer.Option("--master", parser=Host(), help="Host of the run's Locust master.")
    ],
    master_port: Annotated[
        int,
        typer.Option(
            "--master-port", parser=PORT, help="The master's port (LoadOptions.master_port)."
        ),
    ] = DEFAULT_MASTER_PORT,
    acks_file: Annotated[
        Path | None,
        typer.Option(
            "--acks-file",
            parser=PathOf("file"),
            help="Where this machine logs acknowledged transactions "
            "(default ./spikekit-acks-HOST-PID.jsonl); copy it to the run directory.",
        ),
    ] = None,
    connections: Annotated[
        int,
        typer.Option(
            "--connections",
            parser=Number(int, min=1, max=100_000),
            help="Pooled connections to the target.",
        ),
    ] = DEFAULT_CONNECTIONS,
) -> None:
    """Join a run as a Locust worker (Locust's distributed mode across machines)."""
    if not master.strip():
        raise ConfigError("--master: expected a host name or address")
    argv = worker_argv(master, master_port, acks_file, connections)
    os.execv(argv[0], argv)  # pragma: no cover - replaces this process
