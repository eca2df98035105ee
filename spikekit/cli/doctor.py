"""``spikekit doctor``: what this machine has, what is missing, and what that costs."""

from __future__ import annotations

from typing import Annotated

import typer

from spikekit.cli import console
from spikekit.container_engine import engine_checks
from spikekit.machine import Status, run_checks


def doctor(
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check Python, the wheels, Toxiproxy, Go, Chromium, the container engine and limits."""
    checks = run_checks() + engine_checks()
    failed = [c for c in checks if c.required and c.status is Status.MISSING]
    if json:
        console.print_json({"ok": not failed, "checks": [c.model_dump() for c in checks]})
    else:
        rows = [
            [c.name, c.status.value, c.value, "; ".join(filter(None, [c.cost, c.fix]))]
            for c in checks
        ]
        console.table("spikekit doctor", ["check", "status", "found", "cost / fix"], rows)
        if failed:
            console.error("required: " + ", ".join(c.name for c in failed))
    if failed:
        raise typer.Exit(1)
