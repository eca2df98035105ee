"""``spikekit compare RUN_A RUN_B``: the CI gate for "did this change make us less resilient"."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spikekit.cli import console
from spikekit.cli.exit_codes import ExitCode
from spikekit.cli.params import Number, PathOf, probe_folder
from spikekit.cli.report import salvage_killed_run
from spikekit.errors import ConfigError
from spikekit.rundir.layout import COMPARE


def compare(
    run_a: Annotated[Path, typer.Argument(help="The reference run directory.", show_default=False)],
    run_b: Annotated[Path, typer.Argument(help="The run to judge against A.", show_default=False)],
    tolerance: Annotated[
        float,
        typer.Option(
            parser=Number(float, min=0),
            help="Relative worsening allowed before a number counts as a regression.",
        ),
    ] = 0.1,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            parser=PathOf("file"),
            help=f"Comparison HTML to write (default: RUN_B/{COMPARE}).",
        ),
    ] = None,
) -> None:
    """Compare two runs: what got worse in B and what got better, each with its uncertainty;
    exit 1 when the headline is REGRESSED (docs/comparing.md)."""
    if out is not None:
        probe_folder(out.parent, "--out", keep=True)
    # pandas/numpy/matplotlib only when needed
    from spikekit.reports.compare import (
        change_text,
        compare_runs,
        headline_text,
        uncertainty_text,
        write_compare_html,
    )

    for run_dir in (run_a, run_b):
        salvage_killed_run(run_dir)  # a killed run is compared as the aborted run it was
    comparison = compare_runs(run_a, run_b, tolerance)
    try:
        path = write_compare_html(comparison, out or run_b / COMPARE)
    except OSError as error:
        where = "--out" if out is not None else "RUN_B"
        reason = error.strerror or str(error)
        raise ConfigError(f"{where} {out or run_b}: cannot write {COMPARE} ({reason})") from None
    top = comparison.headline
    console.banner(top.word, headline_text(comparison), "bad" if top.regressed else "good")
    columns = ["what", "A → B", "B − A (uncertainty)"]
    worse = [[d.label, change_text(d), uncertainty_text(d)] for d in comparison.regressions]
    if worse:
        console.table(f"Regressions ({len(worse)})", columns, worse)
    else:
        console.info(f"No regression beyond {tolerance:.0%}, the floors and the runs' noise.")
    better = [[d.label, change_text(d), uncertainty_text(d)] for d in comparison.improvements]
    if better:
        console.table(f"Improvements ({len(better)})", columns, better)
    else:
        console.info(f"No improvement beyond {tolerance:.0%}, the floors and the runs' noise.")
    console.info(f"  {path}")
    raise typer.Exit(int(ExitCode.FAILED if top.regressed else ExitCode.OK))
