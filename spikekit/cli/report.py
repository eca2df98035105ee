"""``spikekit report RUN_DIR``: rebuild every output of a run from its directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spikekit.cli import console
from spikekit.cli.checks import check_run_dir
from spikekit.rundir.layout import LIVE, TORN

_TONE = {"PASSED": "good", "DEGRADED": "warn", "FAILED": "bad"}


def report(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (runs/<id>/).", show_default=False)
    ],
) -> None:
    """Rebuild report.html, summary.json and junit.xml from a run directory.

    A run that died (SIGKILL) or ended early (a full disk, a lost load master) before
    writing its results is salvaged first: the missing per-second files are rebuilt from
    its working files (load/live.jsonl) and the run is reported as aborted.

    Exits 0 when the run passed or degraded and recovered, 1 when an SLO, a fault
    recovery or the wallet audit failed, 2 for a missing or invalid run directory,
    3 when the run was aborted.
    """
    from spikekit.reports.build import build_report  # pandas/matplotlib only when needed

    salvage_killed_run(run_dir)
    built = build_report(run_dir)
    verdict = built.summary.verdict
    title = verdict.verdict + (" (aborted)" if verdict.aborted else "")
    console.banner(title, verdict.paragraph, _TONE[verdict.verdict])
    for path in (built.html, built.summary_path, built.junit):
        console.info(f"  {path}")
    raise typer.Exit(verdict.exit_code)


def salvage_killed_run(run_dir: Path) -> None:
    """Rebuild the results a killed run never wrote (if it was killed), and say what.

    The run directory is untrusted: its small files are bounds-checked first.
    """
    from spikekit.run.salvage import salvage

    check_run_dir(run_dir)
    salvaged = salvage(run_dir, say=console.progress)
    if salvaged is not None:
        how = (
            f"the run ended early at t≈{salvaged.end_t:.0f} s ({salvaged.abort_reason})"
            if salvaged.ended_itself
            else f"the run died at t≈{salvaged.end_t:.0f} s"
        )
        console.warn(f"{how} without writing its results; salvaged {salvaged.seconds} s of data")
        if salvaged.rebuilt:
            console.info(f"  rebuilt: {', '.join(salvaged.rebuilt)}")
        for name in salvaged.set_aside:
            console.info(f"  unreadable, set aside: {name} → {name}{TORN}")
        console.info(f"  not known: {'; '.join(salvaged.not_rebuilt)}")
        if salvaged.torn_last_line:
            console.info(f"  {LIVE}: a last line cut short by the kill was skipped")
        if salvaged.skipped_lines:
            console.info(f"  {LIVE}: {salvaged.skipped_lines} unreadable lines skipped")
        for fault_id in salvaged.faults_still_on:
            console.warn(
                f"fault '{fault_id}' was never reverted; take it off with "
                f"`spikekit chaos revert --all {run_dir}`"
            )
