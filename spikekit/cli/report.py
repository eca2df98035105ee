"""``spikekit report RUN_DIR``: rebuild every output of a run from its directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spikekit.cli import console

_TONE = {"PASSED": "good", "DEGRADED": "warn", "FAILED": "bad"}


def report(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (runs/<id>/).", show_default=False)
    ],
) -> None:
    """Rebuild report.html, summary.json and junit.xml from a run directory.

    Exits 0 when the run passed or degraded and recovered, 1 when an SLO, a fault
    recovery or the wallet audit failed, 2 for a missing or invalid run directory,
    3 when the run was aborted.
    """
    from spikekit.reports.build import build_report  # pandas/matplotlib only when needed

    built = build_report(run_dir)
    verdict = built.summary.verdict
    title = verdict.verdict + (" (aborted)" if verdict.aborted else "")
    console.banner(title, verdict.paragraph, _TONE[verdict.verdict])
    for path in (built.html, built.summary_path, built.junit):
        console.info(f"  {path}")
    raise typer.Exit(verdict.exit_code)
