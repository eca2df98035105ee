"""``spikekit demo``: the built-in demo run by ``make demo``.

Until the spike run exists, the demo starts the bundled platform, shows every
service and its health, and stops it again, leaving nothing running.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from spikekit.cli import console
from spikekit.reference_platform import control
from spikekit.reference_platform.spec import default_stack
from spikekit.reference_platform.supervisor import Stack


def demo(
    state_dir: Annotated[
        Path, typer.Option("--state-dir", help="Folder for the demo platform's data and logs.")
    ] = Path(".spikekit/demo"),
) -> None:
    """Start the bundled platform, show its health, stop it."""
    console.progress("starting PostgreSQL, Redis, Toxiproxy and the platform services ...")
    started = time.monotonic()
    with Stack(default_stack(), state_dir) as stack:
        console.info(f"platform up in {time.monotonic() - started:.1f} s")
        current = control.status(stack.state_dir)
        rows = [[s.name, s.url, s.health] for s in current.services]
        rows += [[b.kind, b.address, b.health] for b in current.backing]
        rows += [
            [link.name, f"{link.listen} -> {link.upstream}", "toxiproxy"] for link in current.links
        ]
        console.table("spikekit demo: the reference platform", ["", "address", "health"], rows)
        console.progress("stopping the platform ...")
    console.info(f"done; logs are in {state_dir.resolve()}")
