"""Comparison of two runs: deltas and regressions beyond a tolerance."""

from __future__ import annotations

from pathlib import Path

from spikekit.analysis.synthetic import Disturbance, SyntheticRun, write_synthetic_run
from spikekit.reports.build import summarise
from spikekit.reports.compare import build_compare_html, compare_summaries

from .conftest import cascading_spec, contained_spec, degraded_spec, failed_spec


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


def test_a_fault_that_hurts_more_endpoints_regresses(tmp_path: Path) -> None:
    contained = summarise(write_synthetic_run(tmp_path / "a", contained_spec()))
    cascading = summarise(write_synthetic_run(tmp_path / "b", cascading_spec()))
    worse = compare_summaries(contained, cascading, 0.1)
    (hurt,) = [d for d in worse.deltas if d.label == "fault wallet-slow: endpoints hurt"]
    assert (hurt.a, hurt.b, hurt.regression, hurt.improvement) == (1, 3, True, False)
    assert hurt.note == (
        "1 (POST /api/wallet/bet) → "
        "3 (GET /api/lobby, GET /api/wallet/balance, POST /api/wallet/bet)"
    )
    better = compare_summaries(cascading, contained, 0.1)
    assert "fault wallet-slow: endpoints hurt" in {d.label for d in better.improvements}
    assert "fault wallet-slow: endpoints hurt" not in {d.label for d in better.regressions}


def test_improvements_are_listed_and_do_not_regress(tmp_path: Path) -> None:
    bad = summarise(write_synthetic_run(tmp_path / "a", failed_spec()))
    good = summarise(write_synthetic_run(tmp_path / "b", degraded_spec()))
    comparison = compare_summaries(bad, good, 0.1)
    assert comparison.regressions == []
    improved = {d.label: d for d in comparison.improvements}
    assert improved["wallet audit"].note == "failed → passed"
    assert improved["verdict"].note == "FAILED → DEGRADED"
    assert improved["fault db-locks: time to recover"].note == "not recovered → no impact"
    assert not any(d.regression and d.improvement for d in comparison.deltas)
    html = build_compare_html(comparison)
    assert "IMPROVED" in html and 'id="improvements"' in html
    assert "failed → passed" in html and ">improved<" in html
    assert compare_summaries(good, bad, 0.1).improvements == []
