"""Comparison of two runs: deltas and regressions beyond a tolerance."""

from __future__ import annotations

from pathlib import Path

from spikekit.analysis.synthetic import Disturbance, SyntheticRun, write_synthetic_run
from spikekit.reports.build import summarise
from spikekit.reports.compare import build_compare_html, compare_summaries

from .conftest import degraded_spec, failed_spec


def test_the_same_run_does_not_regress(tmp_path: Path) -> None:
    summary = summarise(write_synthetic_run(tmp_path / "a", degraded_spec()))
    assert compare_summaries(summary, summary, 0.1).regressions == []


def test_a_worse_run_regresses(tmp_path: Path) -> None:
    a = summarise(write_synthetic_run(tmp_path / "a", degraded_spec()))
    b = summarise(write_synthetic_run(tmp_path / "b", failed_spec()))
    comparison = compare_summaries(a, b, 0.1)
    labels = {d.label for d in comparison.regressions}
    assert "verdict" in labels and "wallet audit" in labels
    assert "fault db-locks: time to recover" in labels
    assert compare_summaries(b, a, 0.1).regressions == []
    html = build_compare_html(comparison)
    assert "REGRESSED" in html and "fault db-locks: time to recover" in html


def test_tolerance_decides_a_latency_regression(tmp_path: Path) -> None:
    base = SyntheticRun(noise=0.0)
    slower = SyntheticRun(noise=0.0, disturbances=(Disturbance(0, 300, latency_factor=1.2),))
    a = summarise(write_synthetic_run(tmp_path / "a", base))
    b = summarise(write_synthetic_run(tmp_path / "b", slower))
    assert {d.label for d in compare_summaries(a, b, 0.1).regressions} >= {"spike p95"}
    assert compare_summaries(a, b, 0.25).regressions == []
