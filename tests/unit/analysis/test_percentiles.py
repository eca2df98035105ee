"""Merged windows of per-second histograms give exactly what hdrh gives for the merged
histogram: rolling windows (any chunking), blocks, and any set of seconds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from spikekit.analysis import percentiles as pct
from spikekit.load import histograms as hdr
from spikekit.rundir import second_histograms as sh

N = 36
ENDPOINTS = ("GET /a", "POST /b")
PS = (50.0, 95.0, 99.9, 100.0)

Seconds = dict[tuple[int, str], HdrHistogram]


def random_run(seed: int) -> tuple[sh.LatencyHistograms, Seconds]:
    """Per second and endpoint, latencies from 5 µs to minutes (some seconds empty), and a
    late second row added to an existing one."""
    rng = np.random.default_rng(seed)
    rows, by_second = [], {}
    for t in range(N):
        for endpoint in ENDPOINTS:
            if rng.random() < 0.2:
                continue
            median_ms = float(np.exp(rng.uniform(np.log(0.005), np.log(60_000))))
            values = rng.lognormal(np.log(median_ms), 1.2, int(rng.integers(1, 300)))
            histogram = hdr.histogram_of_ms(values)
            by_second[(t, endpoint)] = histogram
            buckets, counts = sh.sparse_counts(np.ctypeslib.as_array(histogram.counts))
            rows.append(sh.SecondHistogram(t, endpoint, buckets, counts))
    late = hdr.histogram_of_ms([7.5, 7.5, 900.0])  # a late report: one more row of second 3
    rows.append(
        sh.SecondHistogram(3, ENDPOINTS[0], *sh.sparse_counts(np.ctypeslib.as_array(late.counts)))
    )
    by_second.setdefault((3, ENDPOINTS[0]), hdr.new_histogram()).add(late)
    rng.shuffle(rows)  # type: ignore[arg-type]
    return sh.histograms_of_table(sh.histograms_table(rows), "test"), by_second  # type: ignore[arg-type]


def reference(by_second: Seconds, endpoint: str, seconds: range | list[int], p: float) -> float:
    merged = hdr.new_histogram()
    for t in seconds:
        for name in ENDPOINTS if endpoint == "*" else (endpoint,):
            if (t, name) in by_second:
                merged.add(by_second[(t, name)])
    if merged.get_total_count() == 0:
        return math.nan
    return merged.get_value_at_percentile(p) / 1000.0


def same(a: float | None, b: float) -> bool:
    return (a is None and math.isnan(b)) or (
        a is not None and (a == b or (math.isnan(a) and math.isnan(b)))
    )


@pytest.mark.parametrize(
    ("seed", "endpoint", "window"),
    [(1, ENDPOINTS[0], 1), (1, "*", 5), (2, ENDPOINTS[0], 30), (2, "*", 200)],
)
def test_rolling_windows_equal_hdrh_on_the_merged_histogram(
    seed: int, endpoint: str, window: int
) -> None:
    histograms, by_second = random_run(seed)
    start, stop = 4, N
    v = pct.view(histograms, endpoint, start, stop)
    got = pct.rolling(v, window, PS)
    for t in range(start, stop):
        for p in PS:
            want = reference(by_second, endpoint, range(max(start, t - window + 1), t + 1), p)
            assert same(float(got[p][t - start]), want), (t, p, got[p][t - start], want)


def test_the_chunking_does_not_change_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    histograms, _ = random_run(3)
    whole = pct.view(histograms, "*", 0, N)
    rolled, blocked = pct.rolling(whole, 7, (95.0,))[95.0], pct.blocks(whole, 5, (99.0,))[99.0]
    mask = np.arange(N) % 3 == 0
    masked = pct.over(whole, mask, (95.0,))
    monkeypatch.setattr(pct, "CELLS", whole.width * 3)  # matrices of 3 seconds
    monkeypatch.setattr(pct, "SPAN", 4)  # gathered 4 seconds at a time
    v = pct.view(histograms, "*", 0, N)
    assert np.array_equal(v.buckets, whole.buckets)
    assert np.array_equal(pct.rolling(v, 7, (95.0,))[95.0], rolled, equal_nan=True)
    assert np.array_equal(pct.blocks(v, 5, (99.0,))[99.0], blocked, equal_nan=True)
    assert pct.over(v, mask, (95.0,)) == masked


def test_blocks_and_masks_equal_hdrh() -> None:
    histograms, by_second = random_run(4)
    v = pct.view(histograms, "*", 0, N)
    got = pct.blocks(v, 8, (95.0, 99.0))
    assert len(got[95.0]) == math.ceil(N / 8)
    for i in range(len(got[95.0])):
        for p in (95.0, 99.0):
            assert same(
                float(got[p][i]), reference(by_second, "*", range(i * 8, min(i * 8 + 8, N)), p)
            )
    mask = np.zeros(N, dtype=np.bool_)
    mask[[2, 3, 17, 30, 31, 33]] = True
    chosen = [int(t) for t in np.flatnonzero(mask)]
    values = pct.over(v, mask, (50.0, 99.0))
    assert all(same(values[p], reference(by_second, "*", chosen, p)) for p in (50.0, 99.0))
    assert pct.over(v, np.zeros(N, dtype=np.bool_), (95.0,)) == {95.0: None}


def test_a_window_and_its_mean_of_p95s_differ_where_seconds_differ() -> None:
    """One busy fast second and one quiet slow one: the mean of their p95s weighted by
    requests is far from the p95 of their requests together."""
    fast = hdr.histogram_of_ms([10.0] * 1000)
    slow = hdr.histogram_of_ms([2000.0] * 100)
    rows = [
        sh.SecondHistogram(t, "GET /a", *sh.sparse_counts(np.ctypeslib.as_array(h.counts)))
        for t, h in ((0, fast), (1, slow))
    ]
    histograms = sh.histograms_of_table(sh.histograms_table(rows), "test")  # type: ignore[arg-type]
    exact = pct.rolling(pct.view(histograms, "*", 0, 2), 2, (95.0,))[95.0][1]
    merged = hdr.new_histogram()
    merged.add(fast)
    merged.add(slow)
    assert exact == merged.get_value_at_percentile(95) / 1000.0 == pytest.approx(2000.0, rel=1e-3)
    mean_of_p95s = (10.0 * 1000 + 2000.0 * 100) / 1100
    assert mean_of_p95s < 200.0  # the approximation says 191 ms
