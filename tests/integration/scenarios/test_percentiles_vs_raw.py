"""A 30-second real run of ``smoke``: the recorded percentiles agree with the raw samples.

The load engine records per-second HDR histograms in the Locust workers, merges them in
the master and writes ``timeseries.parquet`` (per second) and ``histograms.json`` (the
whole run). With ``LoadOptions(raw_samples=True)`` each worker also logs every request
(``load/raw-samples-worker-N.csv``). Here two workers play ``smoke`` (its 50 s shape
compressed to 30 s, its players paced: each action's first request is recorded from when
the action was due, ``latency_ms``, with Locust's own ``service_ms`` beside it) against the
real platform, and p50/p95/p99 of all requests (``*``)
are recomputed with numpy from the raw samples — per second, bucketed as the recorder
does (``t = floor(completion time - t0)``), and over the whole run — and must agree with
the recorded values within 1 % (relative).

The per-second histograms the master keeps (``latency_histograms.parquet``) are checked
the same way over rolling windows of 5 s and 30 s: a window's histograms added up
(:mod:`spikekit.analysis.percentiles`, what the latency SLOs use) against the raw samples
of the window.

The percentile is the nearest rank as HdrHistogram defines it: the sample at rank
``max(1, floor(p/100 · n + 0.5))`` of the sorted samples. Seconds with fewer than 20
samples are not compared: there, p95 and p99 are the largest sample or two, and one
request more or less in a second (completing right at its edge) would decide the result.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
import pytest

from spikekit.analysis import percentiles as pct
from spikekit.analysis import series
from spikekit.load import histograms as hdr
from spikekit.load.options import LoadOptions
from spikekit.load.result import LoadResult, LoadStatus
from spikekit.load.runner import LoadRunner
from spikekit.reference_platform.supervisor import Stack
from spikekit.rundir import frames
from spikekit.rundir.second_histograms import LatencyHistograms, read_latency_histograms
from spikekit.scenarios import Scenario, load_scenario
from tests.integration.scenarios.conftest import service_url

LOAD_S = 30.0
WORKERS = 2
PERCENTILES = (50.0, 95.0, 99.0)
TOLERANCE = 0.01
MIN_SAMPLES = 20
WINDOWS = (5, 30)


@dataclass
class Run:
    result: LoadResult
    rows: list[dict[str, Any]]  # timeseries.parquet, endpoint "*"
    whole_run: Any  # the master's merged HdrHistogram of "*"
    t: npt.NDArray[np.int64]  # per raw sample: its run second
    latency_ms: npt.NDArray[np.float64]
    service_ms: npt.NDArray[np.float64]
    raw_files: int
    histograms: LatencyHistograms | None  # latency_histograms.parquet
    timeseries: Any  # timeseries.parquet as the analysis reads it


def read_raw(paths: list[Path], started_at: float) -> tuple[list[int], list[float], list[float]]:
    seconds: list[int] = []
    latencies: list[float] = []
    services: list[float] = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for line in csv.DictReader(handle):
                if line["outcome"] == "generator_error":  # never in the histograms
                    continue
                seconds.append(max(0, math.floor(float(line["time"]) - started_at)))
                latencies.append(float(line["latency_ms"]))
                services.append(float(line["service_ms"]))
    return seconds, latencies, services


@pytest.fixture(scope="module")
def run(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Run:
    smoke = load_scenario("smoke")
    think = {**smoke.think_time.model_dump(), "pacing": True}
    paced = Scenario.model_validate({**smoke.model_dump(), "think_time": think})
    scenario = paced.with_overrides(duration_scale=LOAD_S / smoke.duration_s)
    run_dir = tmp_path_factory.mktemp("smoke-raw")
    options = LoadOptions(workers=WORKERS, raw_samples=True, stop_timeout_s=3.0, grace_s=5.0)
    with LoadRunner(scenario, service_url(stack, "gateway"), run_dir, options) as runner:
        result = runner.wait()
        paths = [runner.raw_samples_path(i) for i in range(WORKERS)]
    assert result.started_at is not None, result
    seconds, latencies, services = read_raw([p for p in paths if p.is_file()], result.started_at)
    rows = pq.read_table(run_dir / "timeseries.parquet").to_pylist()
    totals = json.loads((run_dir / "histograms.json").read_text(encoding="utf-8"))
    return Run(
        result=result,
        rows=[r for r in rows if r["endpoint"] == "*"],
        whole_run=hdr.decode(totals["*"]),
        t=np.array(seconds, dtype=np.int64),
        latency_ms=np.array(latencies, dtype=np.float64),
        service_ms=np.array(services, dtype=np.float64),
        raw_files=sum(p.is_file() for p in paths),
        histograms=read_latency_histograms(run_dir),
        timeseries=frames.read_timeseries(run_dir),
    )


def nearest_rank(samples: npt.NDArray[np.float64], percentile: float) -> float:
    ordered = np.sort(samples)
    rank = max(1, math.floor(percentile / 100.0 * len(ordered) + 0.5))
    return float(ordered[rank - 1])


def relative(recorded: float, raw: float) -> float:
    return abs(recorded - raw) / raw


def test_the_run_lasts_30_s_and_every_worker_logged_its_requests(run: Run) -> None:
    assert run.result.status is LoadStatus.COMPLETED, (run.result.status, run.result.reason)
    assert run.raw_files == WORKERS
    assert len(run.rows) >= LOAD_S - 2, [r["t"] for r in run.rows]
    recorded = sum(r["requests"] for r in run.rows)
    assert recorded == len(run.latency_ms) == run.whole_run.get_total_count(), (
        f"{recorded} recorded per second, {len(run.latency_ms)} raw samples, "
        f"{run.whole_run.get_total_count()} in the whole-run histogram"
    )
    print(f"\nsmoke for {len(run.rows)} s: {recorded} requests from {WORKERS} workers")


def test_paced_latencies_are_corrected_never_shortened(run: Run) -> None:
    late_ms = run.latency_ms - run.service_ms
    assert (late_ms >= 0).all()
    assert (late_ms > 0).any()  # first requests of paced actions: sent a little after due
    print(f"\nlateness: max {late_ms.max():.1f} ms, {np.mean(late_ms > 0):.0%} of requests")


def test_per_second_percentiles_agree_with_the_raw_samples_within_1_percent(run: Run) -> None:
    compared = 0
    worst = dict.fromkeys(PERCENTILES, 0.0)
    for row in run.rows:
        samples = run.latency_ms[run.t == row["t"]]
        assert row["requests"] == len(samples), (row, len(samples))  # the same bucketing
        if len(samples) < MIN_SAMPLES:
            continue
        compared += 1
        recorded = {50.0: row["p50_ms"], 95.0: row["p95_ms"], 99.0: row["p99_ms"]}
        for p in PERCENTILES:
            raw = nearest_rank(samples, p)
            difference = relative(recorded[p], raw)
            worst[p] = max(worst[p], difference)
            assert difference <= TOLERANCE, (
                f"second {row['t']} ({len(samples)} samples): p{p:g} recorded "
                f"{recorded[p]:.3f} ms, raw {raw:.3f} ms"
            )
    assert compared >= LOAD_S / 2, f"only {compared} seconds had {MIN_SAMPLES}+ samples"
    print(
        f"\n{compared} of {len(run.rows)} seconds compared; worst relative difference "
        + ", ".join(f"p{p:g} {worst[p]:.4%}" for p in PERCENTILES)
    )


def test_whole_run_percentiles_agree_with_the_raw_samples_within_1_percent(run: Run) -> None:
    report = []
    for p in PERCENTILES:
        recorded = run.whole_run.get_value_at_percentile(p) / 1000.0
        raw = nearest_rank(run.latency_ms, p)
        difference = relative(recorded, raw)
        report.append(f"p{p:g} {recorded:.3f} vs {raw:.3f} ms ({difference:.4%})")
        assert difference <= TOLERANCE, report[-1]
    print("\nwhole run: " + "; ".join(report))


def test_the_per_second_histograms_hold_every_request_of_each_second(run: Run) -> None:
    assert run.histograms is not None, "no latency_histograms.parquet"
    rows = run.histograms.rows("*")
    per_second = np.bincount(rows.seconds, weights=rows.count)
    for row in run.rows:
        held = int(per_second[row["t"]]) if row["t"] < len(per_second) else 0
        assert held == row["requests"], (row["t"], held, row["requests"])


@pytest.mark.parametrize("window", WINDOWS)
def test_windowed_percentiles_agree_with_the_raw_samples_within_1_percent(
    run: Run, window: int
) -> None:
    assert run.histograms is not None
    n = max(r["t"] for r in run.rows) + 1
    merged = pct.rolling(pct.view(run.histograms, "*", 0, n), window, PERCENTILES)
    # the latency SLOs' own path gives the same numbers
    slo_p95 = pct.windowed(run.timeseries, run.histograms, "*", "p95_ms", window, 0, n)
    assert np.array_equal(slo_p95, merged[95.0], equal_nan=True)
    everything = series.endpoint_rows(run.timeseries, "*")
    mean_of_p95 = pct.approximate_rolling(everything, "p95_ms", window, 0, n)
    compared, worst, worst_mean = 0, dict.fromkeys(PERCENTILES, 0.0), 0.0
    for t in range(n):
        samples = run.latency_ms[(run.t > t - window) & (run.t <= t)]
        if len(samples) < MIN_SAMPLES:
            continue
        compared += 1
        for p in PERCENTILES:
            raw = nearest_rank(samples, p)
            difference = relative(float(merged[p][t]), raw)
            worst[p] = max(worst[p], difference)
            assert difference <= TOLERANCE, (
                f"{window}-s window ending at {t} ({len(samples)} samples): p{p:g} merged "
                f"{merged[p][t]:.3f} ms, raw {raw:.3f} ms"
            )
        worst_mean = max(worst_mean, relative(float(mean_of_p95[t]), nearest_rank(samples, 95.0)))
    assert compared >= n / 2, f"only {compared} windows had {MIN_SAMPLES}+ samples"
    print(
        f"\n{window}-s windows: {compared} compared; worst relative difference "
        + ", ".join(f"p{p:g} {worst[p]:.4%}" for p in PERCENTILES)
        + f"; the mean of per-second p95s was off by up to {worst_mean:.1%}"
    )
