"""Per-second latency histograms for a synthetic run directory (benchmark 4).

The synthetic run (:mod:`spikekit.analysis.synthetic`) has per-second aggregates only; a
real run's load master also writes ``latency_histograms.parquet``. Here every endpoint's
requests of every second are drawn from a log-normal distribution with that second's p50
and p95 (``p50 = p95 / 2``), recorded into the load engine's HDR bucket space, and written
as the master writes them: a part file every 10 seconds, merged at the end. What grows with
the load is the number of non-zero buckets per second (a second with thousands of requests
fills a few thousand buckets), so the file of a full-scale run is as large as it will get.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spikekit.rundir import layout
from spikekit.rundir import second_histograms as sh

SIGMA = float(np.log(2.0) / 1.645)  # p50 = p95 / 2
SECONDS_AT_ONCE = 60


@dataclass(frozen=True)
class Written:
    parts_s: float  # writing the part files, all of them (the master, during the run)
    merge_s: float  # merging them (the master, at the end)
    size_bytes: int
    rows: int
    pairs: int


def _second_rows(frame: pd.DataFrame, rng: np.random.Generator) -> list[sh.SecondHistogram]:
    """The histograms of the rows of ``frame`` (``t``, ``endpoint``, ``requests``,
    ``p95_ms``), drawn at once."""
    requests = frame["requests"].to_numpy(dtype=np.int64)
    medians = frame["p95_ms"].to_numpy(dtype=np.float64) / 2.0
    row = np.repeat(np.arange(len(frame), dtype=np.int64), requests)
    latency_ms = np.exp(np.log(medians[row]) + SIGMA * rng.standard_normal(len(row)))
    micros = np.clip(np.rint(latency_ms * 1000.0), sh.LOWEST_US, sh.HIGHEST_US).astype(np.int64)
    keys, counts = np.unique(row * sh.COUNTS_LEN + sh.counts_index(micros), return_counts=True)
    owner = keys // sh.COUNTS_LEN
    bounds = np.searchsorted(owner, np.arange(len(frame) + 1))
    t = frame["t"].to_numpy(dtype=np.int64)
    names = frame["endpoint"].astype(str).to_numpy()
    return [
        sh.SecondHistogram(
            int(t[i]),
            str(names[i]),
            (keys[bounds[i] : bounds[i + 1]] % sh.COUNTS_LEN).astype(np.int32),
            counts[bounds[i] : bounds[i + 1]].astype(np.int64),
        )
        for i in range(len(frame))
        if bounds[i + 1] > bounds[i]
    ]


def write_histograms(run_dir: Path, seed: int = 11) -> Written:
    """``latency_histograms.parquet`` for the synthetic run in ``run_dir`` (timed: the part
    writes and the merge, not the drawing)."""
    series = pd.read_parquet(run_dir / layout.TIMESERIES)
    series = series[(series["endpoint"] != sh.ALL) & (series["requests"] > 0)]
    series = series[series["p95_ms"].notna()].sort_values(["t", "endpoint"])
    rng = np.random.default_rng(seed)
    writer = sh.PartWriter(run_dir)
    parts_s, rows, pairs = 0.0, 0, 0
    last = int(series["t"].max()) + 1 if len(series) else 0
    for first in range(0, last, SECONDS_AT_ONCE):
        chunk = series[(series["t"] >= first) & (series["t"] < first + SECONDS_AT_ONCE)]
        drawn = _second_rows(chunk, rng)
        rows += len(drawn)
        pairs += sum(len(r.bucket) for r in drawn)
        for part in range(first, first + SECONDS_AT_ONCE, sh.FLUSH_EVERY_S):
            flush = [r for r in drawn if part <= r.t < part + sh.FLUSH_EVERY_S]
            began = time.perf_counter()
            writer.write(flush)
            parts_s += time.perf_counter() - began
    began = time.perf_counter()
    merged = sh.merge_parts(run_dir)
    merge_s = time.perf_counter() - began
    size = merged.stat().st_size if merged is not None else 0
    return Written(parts_s, merge_s, size, rows, pairs)
