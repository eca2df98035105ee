"""A comparison a manager can trust: noise is not a regression, the headline weighs what
matters first, and every figure has the right direction (docs/comparing.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hdrh.histogram import HdrHistogram
from typer.testing import CliRunner

from spikekit.analysis.analyse import analyse
from spikekit.analysis.rundir import load_run
from spikekit.analysis.synthetic import Disturbance, SyntheticRun, write_synthetic_run
from spikekit.cli.main import app
from spikekit.load import histograms as hdr
from spikekit.reports.build import summarise
from spikekit.reports.compare import (
    Better,
    Delta,
    build_compare_html,
    compare_runs,
    compare_summaries,
    uncertainty_text,
)
from spikekit.reports.compare_stats import RESAMPLES, run_noise
from spikekit.reports.summary import Summary
from spikekit.rundir import layout
from spikekit.rundir.second_histograms import (
    PartWriter,
    SecondHistogram,
    merge_parts,
    sparse_counts,
)
from spikekit.rundir.tables import ALL, TimeseriesRow, timeseries_table, write_parquet

from .conftest import degraded_spec, failed_spec

runner = CliRunner()
LOBBY = "GET /api/lobby"


def _by(deltas: list[Delta], label: str) -> Delta:
    (delta,) = [d for d in deltas if d.label == label]
    return delta


# --- noise ------------------------------------------------------------------------------


def test_a_short_hiccup_is_noise_a_sustained_rise_is_a_regression(tmp_path: Path) -> None:
    a = write_synthetic_run(tmp_path / "a", SyntheticRun(seed=1))
    hiccup = SyntheticRun(seed=2, disturbances=(Disturbance(30, 36, latency_factor=3.0),))
    sustained = SyntheticRun(seed=2, disturbances=(Disturbance(0, 60, latency_factor=1.3),))
    b = write_synthetic_run(tmp_path / "hiccup", hiccup)
    c = write_synthetic_run(tmp_path / "sustained", sustained)

    # on tolerance and floor alone, six slow seconds of sixty look like a regression …
    floor_only = compare_summaries(summarise(a), summarise(b), 0.1)
    assert "baseline p95" in {d.label for d in floor_only.regressions}
    # … the run's own noise says they are not
    noisy = compare_runs(a, b, 0.1)
    p95 = _by(noisy.deltas, "baseline p95")
    assert p95.change is not None and p95.change > 5 and not p95.regression
    assert p95.interval is not None and p95.interval[0] <= 0 < p95.interval[1]
    assert noisy.headline.word == "NO REGRESSION"

    real = compare_runs(a, c, 0.1)
    p95 = _by(real.deltas, "baseline p95")
    assert p95.regression and p95.interval is not None and p95.interval[0] > 0
    text = uncertainty_text(p95)
    assert text.startswith("+10 ms (95 % CI +") and text.endswith(" ms)"), text
    assert real.headline.word == "REGRESSED" and real.headline.decided_by == "other figures"


def test_the_intervals_are_reproducible(tmp_path: Path) -> None:
    a = write_synthetic_run(tmp_path / "a", SyntheticRun(seed=1))
    b = write_synthetic_run(tmp_path / "b", SyntheticRun(seed=2))
    first = [d.interval for d in compare_runs(a, b).deltas]
    assert first == [d.interval for d in compare_runs(a, b).deltas]
    assert sum(i is not None for i in first) == 7  # 2 phases × 3 figures + overall errors


def _second(t: int, slow: float, rng: np.random.Generator) -> HdrHistogram:
    return hdr.histogram_of_ms(rng.lognormal(np.log(40.0 * slow), 0.3, 200))


def _hdr_run(run_dir: Path, slow: float, seed: int) -> Path:
    """60 s of baseline whose requests are HDR histograms, as the load engine keeps them."""
    n = 60
    write_synthetic_run(run_dir, SyntheticRun(duration_s=n, peak_players=8000))
    rng = np.random.default_rng(seed)
    seconds = [_second(t, slow, rng) for t in range(n)]
    rows = [
        TimeseriesRow(t, name, h.get_total_count(), 0, *hdr.percentiles(h))
        for t, h in enumerate(seconds)
        for name in (LOBBY, ALL)
    ]
    write_parquet(timeseries_table(rows), run_dir / layout.TIMESERIES)
    PartWriter(run_dir).write(
        [
            SecondHistogram(t, LOBBY, *sparse_counts(np.ctypeslib.as_array(h.counts)))
            for t, h in enumerate(seconds)
        ]
    )
    merge_parts(run_dir)
    return run_dir


def test_percentile_replicates_come_from_the_histograms(tmp_path: Path) -> None:
    a = _hdr_run(tmp_path / "a", 1.0, 1)
    analysis = analyse(load_run(a))
    assert analysis.run.latency_histograms is not None
    exact = analysis.phases.baseline
    assert exact is not None and exact.p95_ms is not None
    replicates = run_noise(analysis).replicates["baseline p95"]
    assert replicates.shape == (RESAMPLES,) and np.isfinite(replicates).all()
    # replicates scatter around the exact figure, to HDR precision
    assert abs(float(np.median(replicates)) - exact.p95_ms) < 0.02 * exact.p95_ms
    assert exact.seconds == 60 and float(np.ptp(replicates)) > 0.5

    same = compare_runs(a, _hdr_run(tmp_path / "same", 1.0, 2))
    p95 = _by(same.deltas, "baseline p95")
    assert p95.interval is not None and p95.interval[0] < 0 < p95.interval[1]
    assert not p95.regression
    slower = compare_runs(a, _hdr_run(tmp_path / "slower", 1.25, 2))
    p95 = _by(slower.deltas, "baseline p95")
    assert p95.regression and p95.interval is not None and p95.interval[0] > 5


# --- the headline -----------------------------------------------------------------------


def test_failed_to_degraded_with_a_clean_audit_is_improved_its_regressions_listed(
    tmp_path: Path,
) -> None:
    """The demo's pair: the fragile run FAILED (duplicate debits, a fault never
    recovered); the resilient one DEGRADED, clean, but its baseline p95 rose."""
    fragile = write_synthetic_run(tmp_path / "fragile", failed_spec())
    spec = degraded_spec()
    slower = (*spec.disturbances, Disturbance(0, 60, latency_factor=1.5))
    resilient = write_synthetic_run(
        tmp_path / "resilient", SyntheticRun(faults=spec.faults, disturbances=slower)
    )
    comparison = compare_runs(fragile, resilient, 0.1)
    assert comparison.headline.word == "IMPROVED"
    assert comparison.headline.decided_by == "verdict"
    regressed = {d.label for d in comparison.regressions}
    assert {"baseline p95", "baseline p99"} <= regressed
    html = build_compare_html(comparison)
    assert ">IMPROVED<" in html and 'id="regressions"' in html and "95 % CI" in html

    result = runner.invoke(app, ["compare", str(fragile), str(resilient)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert output.startswith("IMPROVED Decided by verdict: FAILED → DEGRADED")
    assert "Regressions (" in output and "baseline p95" in output and "95 % CI" in output
    # the other way round, the same rule regresses on the verdict: exit 1
    result = runner.invoke(app, ["compare", str(resilient), str(fragile)])
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and output.startswith("REGRESSED Decided by verdict"), output


def _with(summary: Summary, **fault: object) -> Summary:
    faults = [summary.faults[0].model_copy(update=fault), *summary.faults[1:]]
    return summary.model_copy(update={"faults": faults})


def test_the_audit_decides_before_the_error_rate(tmp_path: Path) -> None:
    base = summarise(write_synthetic_run(tmp_path / "a", degraded_spec()))
    failed_audit = base.audit.model_copy(update={"status": "failed"})
    fewer_errors = base.key_numbers.model_copy(update={"error_rate": 0.0})
    b = base.model_copy(update={"audit": failed_audit, "key_numbers": fewer_errors})
    a = base.model_copy(
        update={"key_numbers": base.key_numbers.model_copy(update={"error_rate": 0.05})}
    )
    comparison = compare_summaries(a, b)
    assert "overall error rate" in {d.label for d in comparison.improvements}
    assert comparison.headline.word == "REGRESSED"
    assert comparison.headline.decided_by == "wallet audit"


# --- directions -------------------------------------------------------------------------


def test_a_later_first_breach_is_better(tmp_path: Path) -> None:
    base = summarise(write_synthetic_run(tmp_path / "a", degraded_spec()))
    label = f"fault {base.faults[0].fault_id}: time to detect"
    early, late = _with(base, time_to_detect_s=0), _with(base, time_to_detect_s=2)
    held = _by(compare_summaries(early, late).deltas, label)
    assert held.better is Better.HIGHER and held.improvement and not held.regression
    gave_way = _by(compare_summaries(late, early).deltas, label)
    assert gave_way.regression and not gave_way.improvement
    # no breach at all is best: a breach where there was none is worse
    never = _with(base, time_to_detect_s=None)
    assert _by(compare_summaries(never, late).deltas, label).regression
    assert _by(compare_summaries(late, never).deltas, label).note == "2 s → no breach"
    # one second either way is the resolution, not a change
    one = _with(base, time_to_detect_s=1)
    assert not _by(compare_summaries(early, one).deltas, label).improvement


def test_a_higher_launch_success_rate_is_better(tmp_path: Path) -> None:
    base = summarise(write_synthetic_run(tmp_path / "a", degraded_spec()))

    def launches(rate: float) -> Summary:
        numbers = base.key_numbers.model_copy(update={"launch_success_rate": rate})
        return base.model_copy(update={"key_numbers": numbers})

    worse = _by(compare_summaries(launches(0.99), launches(0.90)).deltas, "launch success rate")
    assert worse.regression and worse.better is Better.HIGHER
    assert "no per-second data" in uncertainty_text(worse)
    better = _by(compare_summaries(launches(0.90), launches(0.99)).deltas, "launch success rate")
    assert better.improvement and not better.regression


def test_docs_list_every_compared_figure_with_its_direction(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[3] / "docs" / "comparing.md").read_text(encoding="utf-8")
    a = summarise(write_synthetic_run(tmp_path / "a", failed_spec()))
    kill = a.faults[0].model_copy(update={"fault": "process.kill", "failover_s": 3})
    a = a.model_copy(update={"faults": [kill, *a.faults[1:]]})
    rows = [line for line in doc.splitlines() if line.startswith("| ")]
    for delta in compare_summaries(a, a).deltas:
        figure = delta.label
        for fault in a.faults:
            figure = figure.replace(f"fault {fault.fault_id}:", "fault *id*:")
        for slo in a.slos:
            figure = figure.replace(f"SLO {slo.name}:", "SLO *name*:")
        (row,) = [r for r in rows if figure in r.split("|")[1]]
        direction = row.split("|")[2]
        assert ("higher" in direction) == (delta.better is Better.HIGHER), row
