"""``spikekit scenarios``: list, show, validate and create scenario files."""

from __future__ import annotations

import typer

app = typer.Typer(help="List, show, validate and create scenarios.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List the built-in scenarios."""
