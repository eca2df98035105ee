"""Windowed latency figures from the per-second histograms, where the mean of per-second
p95s is visibly wrong: busy fast seconds (1,000 requests at 10 ms) alternate with quiet
slow ones (100 at 2 s). Over 10 s the p95 of the requests is 2 s; the request-weighted
mean of the per-second p95s says 191 ms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from spikekit.analysis.blast import judge_endpoint
from spikekit.analysis.comparison import phase_stats
from spikekit.analysis.rundir import RunData, load_run
from spikekit.analysis.slo import evaluate_slo
from spikekit.analysis.synthetic import SyntheticRun, write_synthetic_run
from spikekit.load import histograms as hdr
from spikekit.rundir import layout
from spikekit.rundir.second_histograms import (
    PartWriter,
    SecondHistogram,
    merge_parts,
    sparse_counts,
)
from spikekit.rundir.tables import ALL, TimeseriesRow, timeseries_table, write_parquet
from spikekit.scenarios.slo import SLO, SLOMetric

LOBBY = "GET /api/lobby"
N, WINDOW, THRESHOLD = 20, 10, 500.0
SLOS = (
    SLO(
        name="lobby p95",
        metric=SLOMetric.LATENCY_P95,
        endpoint=LOBBY,
        threshold=THRESHOLD,
        window_s=WINDOW,
    ),
    SLO(name="p99 all", metric=SLOMetric.LATENCY_P99, threshold=THRESHOLD, window_s=WINDOW),
)


def second(t: int) -> HdrHistogram:
    return hdr.histogram_of_ms([10.0] * 1000 if t % 2 == 0 else [2000.0] * 100)


def write_run(run_dir: Path, skip: tuple[int, ...] = (), histograms: bool = True) -> RunData:
    """A synthetic run whose timeseries and histograms are those of :func:`second`;
    ``skip``: seconds whose histograms are missing (a lost part)."""
    write_synthetic_run(run_dir, SyntheticRun(duration_s=N, slos=SLOS, ramp=(0.0, 0.0)))
    rows = []
    for t in range(N):
        p = hdr.percentiles(second(t))
        for name in (LOBBY, ALL):
            rows.append(TimeseriesRow(t, name, second(t).get_total_count(), 0, *p))
    write_parquet(timeseries_table(rows), run_dir / layout.TIMESERIES)
    if histograms:
        kept = [
            SecondHistogram(t, LOBBY, *sparse_counts(np.ctypeslib.as_array(second(t).counts)))
            for t in range(N)
            if t not in skip
        ]
        PartWriter(run_dir).write(kept)
        merge_parts(run_dir)
    return load_run(run_dir)


def merged_ms(seconds: range, percentile: float) -> float:
    total = hdr.new_histogram()
    for t in seconds:
        total.add(second(t))
    return total.get_value_at_percentile(percentile) / 1000.0


def test_the_windowed_p95_is_the_p95_of_the_windows_requests(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    assert run.latency_histograms is not None
    lobby = evaluate_slo(run, SLOS[0])
    for t in range(N):
        assert lobby.values[t] == merged_ms(range(max(0, t - WINDOW + 1), t + 1), 95)
    assert lobby.values[N - 1] == pytest.approx(2000.0, rel=1e-3)
    assert lobby.breached[WINDOW:].all()  # 2 s > 500 ms: breached, as every user saw
    every = evaluate_slo(run, SLOS[1])  # "*": the endpoints' rows added up
    assert every.values[N - 1] == merged_ms(range(N - WINDOW, N), 99)


def test_without_histograms_the_mean_of_p95s_hides_the_breach(tmp_path: Path) -> None:
    run = write_run(tmp_path / "old", histograms=False)
    assert run.latency_histograms is None
    lobby = evaluate_slo(run, SLOS[0])
    weighted = (1000 * 10.0 + 100 * 2000.0) / 1100
    assert lobby.values[N - 1] == pytest.approx(weighted, rel=0.01)  # 191 ms
    assert not lobby.breached[N - 1]


def test_a_window_holding_a_second_without_histogram_is_approximated(tmp_path: Path) -> None:
    run = write_run(tmp_path / "hole", skip=(15,))
    values = evaluate_slo(run, SLOS[0]).values
    assert values[14] == merged_ms(range(5, 15), 95)  # before the hole: exact
    # from second 15 on every 10-s window holds second 15: the approximation
    assert all(values[t] < THRESHOLD for t in range(15, N)), values[15:]


def test_phases_and_blast_radius_use_the_merged_histograms(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    mask = np.ones(N, dtype=np.bool_)
    stats = phase_stats(run, mask)
    assert stats is not None
    assert (stats.p95_ms, stats.p99_ms) == (merged_ms(range(N), 95), merged_ms(range(N), 99))
    hurt = judge_endpoint(run.timeseries, LOBBY, list(SLOS), 0, N, run.latency_histograms)
    assert hurt.hurt and hurt.breaches[0].startswith("p95 2,00"), hurt.breaches
    old = judge_endpoint(run.timeseries, LOBBY, list(SLOS), 0, N)  # the approximation
    assert not old.hurt


def test_an_slo_on_an_endpoint_no_request_reached_has_no_value(tmp_path: Path) -> None:
    """A run stopped early (Toxiproxy killed at t=3 s in CI) may never have answered an
    SLO's endpoint: no value, and no error while the report is built."""
    run = write_run(tmp_path / "run")
    never = SLO(
        name="launch p95",
        metric=SLOMetric.LATENCY_P95,
        endpoint="POST /api/games/{game}/launch",
        threshold=THRESHOLD,
        window_s=WINDOW,
    )
    assert np.isnan(evaluate_slo(run, never).values).all()
