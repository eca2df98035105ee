"""A latency point of the plot that covers several seconds (a run longer than 900 s) is
the percentile of that block's requests, not the highest per-second percentile in it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from spikekit.analysis.analyse import analyse
from spikekit.analysis.rundir import load_run
from spikekit.analysis.synthetic import SyntheticRun, write_synthetic_run
from spikekit.load import histograms as hdr
from spikekit.reports import plots
from spikekit.rundir import layout
from spikekit.rundir.second_histograms import (
    PartWriter,
    SecondHistogram,
    merge_parts,
    sparse_counts,
)
from spikekit.rundir.tables import ALL, TimeseriesRow, timeseries_table, write_parquet

LOBBY = "GET /api/lobby"
N = 1800  # two seconds a point
FAST = hdr.histogram_of_ms([10.0] * 1000)
SLOW = hdr.histogram_of_ms([2000.0] * 20)  # 2 % of each two seconds' requests


def test_a_blocks_p95_is_that_of_its_requests(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun(duration_s=N))
    rows, kept = [], []
    known = {
        id(h): (hdr.percentiles(h), sparse_counts(np.ctypeslib.as_array(h.counts)))
        for h in (FAST, SLOW)
    }
    for t in range(N):
        histogram = FAST if t % 2 == 0 else SLOW
        p, counts = known[id(histogram)]
        for name in (LOBBY, ALL):
            rows.append(TimeseriesRow(t, name, histogram.get_total_count(), 0, *p))
        kept.append(SecondHistogram(t, LOBBY, *counts))
    write_parquet(timeseries_table(rows), run_dir / layout.TIMESERIES)
    PartWriter(run_dir).write(kept)
    merge_parts(run_dir)
    analysis = analyse(load_run(run_dir))
    assert plots.bucket_of(N) == 2
    frame = analysis.run.timeseries
    p95, p99 = plots._latency_lines(analysis, ALL, frame[frame["endpoint"] == ALL], "all")
    assert p95.label == "all p95" and p99.label == "all p99"
    line = p95
    assert line.x is not None and len(line.x) == math.ceil(N / 2)
    merged = hdr.new_histogram()
    merged.add(FAST)
    merged.add(SLOW)
    assert np.all(line.values == merged.get_value_at_percentile(95) / 1000.0)  # 10 ms
    assert float(line.values.max()) < 11.0  # the peak of per-second p95s would say 2 s
