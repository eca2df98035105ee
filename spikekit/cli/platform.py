"""``spikekit platform``: start, inspect and stop the bundled reference platform."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Start, inspect and stop the bundled reference platform.", no_args_is_help=True
)


@app.command()
def status() -> None:
    """Show the running platform."""
