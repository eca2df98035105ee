"""``spikekit demo``: what ``make demo`` runs — the built-in ``demo`` scenario (the
influencer spike at a size this machine can drive, with a provider outage, a wallet
table lock and stalled payment workers) on the bundled platform, then the report.

Unlike ``spikekit run``, the demo exits 0 whatever the verdict: its job is to show one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spikekit.cli import console
from spikekit.cli.params import PathOf
from spikekit.cli.run import run
from spikekit.scenarios.target import Profile


def demo(
    out: Annotated[
        Path, typer.Option(parser=PathOf(), help="Folder for the run directory.")
    ] = Path("runs"),
    profile: Annotated[Profile, typer.Option(help="Defences on or off.")] = Profile.RESILIENT,
) -> None:
    """Run the built-in spike demo on the bundled platform and print where the report is."""
    console.info(
        "spikekit demo: a viral spike (15 → 210 players) against the bundled casino platform, "
        "with a provider outage, a wallet table lock and frozen payment workers (~4 min)"
    )
    try:
        run("demo", out=out, profile=profile)
    except typer.Exit as finished:
        if finished.exit_code not in (0, 1):  # 1 = the platform did not survive: a result
            raise
    console.info("open the report above in a browser; `spikekit report RUN_DIR` rebuilds it")
