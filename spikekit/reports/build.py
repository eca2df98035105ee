"""Rebuild every output of a run directory: report.html, summary.json, junit.xml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spikekit.analysis.analyse import RunAnalysis, analyse
from spikekit.analysis.rundir import load_run
from spikekit.reports.html import write_html
from spikekit.reports.junit import write_junit
from spikekit.reports.summary import Summary, build_summary, write_summary
from spikekit.rundir.layout import JUNIT, REPORT, SUMMARY


@dataclass(frozen=True)
class BuiltReport:
    analysis: RunAnalysis
    summary: Summary
    html: Path
    summary_path: Path
    junit: Path


def summarise(run_dir: Path) -> Summary:
    """The summary of a run directory, recomputed from its data (nothing written)."""
    return build_summary(analyse(load_run(run_dir)))


def build_report(run_dir: Path) -> BuiltReport:
    run_dir = Path(run_dir)
    analysis = analyse(load_run(run_dir))
    summary = build_summary(analysis)
    return BuiltReport(
        analysis=analysis,
        summary=summary,
        summary_path=write_summary(summary, run_dir / SUMMARY),
        junit=write_junit(summary, run_dir / JUNIT),
        html=write_html(analysis, summary, run_dir / REPORT),
    )
