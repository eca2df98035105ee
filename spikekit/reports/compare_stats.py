"""The noise of a run's figures: block-bootstrap replicates over its per-second data.

Why: two runs of the same platform never give the same p95. A comparison that flags every
difference beyond a relative tolerance cries wolf on a busy machine (a baseline p95 of
65 ms in one run, 74 ms in the next). The run's own seconds say how much a figure moves
by chance: resample them, recompute the figure, and the spread of the replicates is its
noise. A delta between two runs is then read with the interval of ``B* − A*`` over
independent replicates of both runs (:func:`delta_interval`).

How:

- the seconds a figure is computed from (a phase's seconds, or every second for the
  overall error rate) are cut, in order, into blocks of :data:`BLOCK_S` consecutive
  seconds (longer when a run has more than :data:`MAX_BLOCKS` of them, which bounds the
  cost): seconds next to each other are alike (a slow minute is slow throughout), and
  resampling single seconds would understate the noise;
- :data:`RESAMPLES` replicates draw as many blocks, with replacement, from a generator
  seeded with :data:`SEED` (plus one for run B): the same two runs always give the same
  intervals;
- each replicate is a (replicates × blocks) matrix of how often each block was drawn,
  multiplied by the blocks' sums: requests and failures (error rates), and either the
  blocks' HDR histograms (p95 and p99 exact to HDR precision, read like
  :mod:`spikekit.analysis.percentiles`) or, in older run directories without histograms,
  the request-weighted per-second percentiles of ``timeseries.parquet``.

Figures without per-second data (counts, the audit, times to detect and recover, seconds
breached), and phase figures of fewer than :data:`MIN_SECONDS` seconds (blocks shrink to
keep :data:`MIN_BLOCKS` of them in a short phase), have no replicates: they are judged on
tolerance and floor alone (docs/comparing.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from spikekit.analysis import series as s
from spikekit.analysis.analyse import RunAnalysis
from spikekit.analysis.comparison import phase_masks
from spikekit.analysis.percentiles import CELLS, view
from spikekit.analysis.recovery import excused_seconds
from spikekit.rundir.second_histograms import highest_equivalent_us

RESAMPLES = 1000
BLOCK_S = 5
MAX_BLOCKS = 400  # longer blocks beyond: a (RESAMPLES × blocks) @ (blocks × buckets) product
MIN_BLOCKS = 4  # shorter blocks below (down to 1 s): fewer blocks say nothing of the spread
MIN_SECONDS = 10  # fewer seconds: no interval at all (the figure is judged on its floor)
SEED = 19
CONFIDENCE = 0.95
PERCENTILES = {"p95": 95.0, "p99": 99.0}


@dataclass(frozen=True)
class RunNoise:
    """Bootstrap replicates (``RESAMPLES`` each, NaN where a replicate had no request) of
    the figures of one run that have per-second data, by the comparison's label."""

    replicates: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    #: the seconds each per-second figure is computed from (also those with too few)
    seconds: dict[str, int] = field(default_factory=dict)


def _blocks(mask: s.Bools) -> tuple[NDArray[np.int64], int]:
    """The block of each second (-1: not in ``mask``) and the number of blocks."""
    seconds = np.flatnonzero(mask)
    size = max(BLOCK_S, math.ceil(len(seconds) / MAX_BLOCKS))
    if len(seconds) < BLOCK_S * MIN_BLOCKS:
        size = max(1, len(seconds) // MIN_BLOCKS)
    block = np.full(len(mask), -1, dtype=np.int64)
    block[seconds] = np.arange(len(seconds)) // size
    return block, math.ceil(len(seconds) / size)


def _draws(rng: np.random.Generator, count: int) -> NDArray[np.float64]:
    """How often each of ``count`` blocks is drawn in each replicate (RESAMPLES × count)."""
    chosen = rng.integers(0, count, size=(RESAMPLES, count))
    key = (np.arange(RESAMPLES)[:, None] * count + chosen).ravel()
    drawn: NDArray[np.float64] = np.bincount(key, minlength=RESAMPLES * count).astype(np.float64)
    return drawn.reshape(RESAMPLES, count)


def _by_block(values: s.Floats, block: NDArray[np.int64], count: int) -> s.Floats:
    inside = block >= 0
    summed = np.bincount(block[inside], weights=values[inside], minlength=count)
    return summed.astype(np.float64)


def _ratio(top: s.Floats, bottom: s.Floats) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: NDArray[np.float64] = np.where(bottom > 0, top / bottom, np.nan)
    return out


def _read(
    histograms: NDArray[np.float64], percentile: float, buckets: NDArray[np.int64]
) -> s.Floats:
    """The percentile (ms) of each row of summed histograms, as hdrh reads it; NaN: empty."""
    cumulative = np.cumsum(histograms, axis=1)
    total = cumulative[:, -1]
    target = np.maximum(np.floor(percentile * total / 100.0 + 0.5), 1.0)
    column = np.argmax(cumulative >= target[:, None], axis=1)
    values = highest_equivalent_us(buckets[column]).astype(np.float64) / 1000.0
    out: s.Floats = np.where(total > 0, values, np.nan)
    return out


def _exact_percentiles(
    analysis: RunAnalysis, block: NDArray[np.int64], count: int, drawn: NDArray[np.float64]
) -> dict[str, s.Floats] | None:
    """Replicated p95/p99 from the blocks' summed HDR histograms; None without them or
    when a second with requests has no histogram (the caller approximates)."""
    run = analysis.run
    if run.latency_histograms is None:
        return None
    v = view(run.latency_histograms, "*", 0, len(block))
    requests = s.per_second(s.endpoint_rows(run.timeseries, "*"), "requests", len(block))
    covered = np.zeros(len(block), dtype=np.bool_)
    covered[v.seconds[v.seconds < len(block)]] = True
    if ((requests > 0) & ~covered & (block >= 0)).any() or v.width == 0:
        return None
    second, column, counts = v.triples(0, len(block))
    keep = second < len(block)
    second, column, weights = second[keep], column[keep], counts[keep].astype(np.float64)
    inside = block[second] >= 0
    key = block[second[inside]] * v.width + column[inside]
    sums = np.bincount(key, weights=weights[inside], minlength=count * v.width)
    sums = sums.reshape(count, v.width)
    out = {name: np.full(RESAMPLES, np.nan) for name in PERCENTILES}
    step = max(1, CELLS // v.width)  # replicates at once: memory stays under CELLS cells
    for first in range(0, RESAMPLES, step):
        summed = drawn[first : first + step] @ sums
        for name, p in PERCENTILES.items():
            out[name][first : first + step] = _read(summed, p, v.buckets)
    return out


def _phase(
    analysis: RunAnalysis,
    name: str,
    mask: s.Bools,
    rng: np.random.Generator,
    latency: bool = True,
) -> dict[str, NDArray[np.float64]]:
    """Replicates of ``name`` error rate, and p95 and p99 when ``latency``, over the
    seconds of ``mask``."""
    if int(mask.sum()) < MIN_SECONDS:
        return {}
    run = analysis.run
    block, count = _blocks(mask)
    drawn = _draws(rng, count)
    rows = s.endpoint_rows(run.timeseries, "*")
    n = len(mask)
    requests = _by_block(s.per_second(rows, "requests", n), block, count)
    failures = _by_block(s.per_second(rows, "failures", n), block, count)
    out = {f"{name} error rate": _ratio(drawn @ failures, drawn @ requests)}
    if not latency:
        return out
    exact = _exact_percentiles(analysis, block, count, drawn)
    for label in PERCENTILES:
        if exact is not None:
            out[f"{name} {label}"] = exact[label]
            continue
        column = f"{label}_ms"
        served = rows[(rows["requests"] > 0) & rows[column].notna()]
        weighted = s.per_second(served.assign(w=served[column] * served["requests"]), "w", n)
        weight = s.per_second(served, "requests", n)
        out[f"{name} {label}"] = _ratio(
            drawn @ _by_block(weighted, block, count), drawn @ _by_block(weight, block, count)
        )
    return out


def run_noise(analysis: RunAnalysis, seed: int = SEED) -> RunNoise:
    """The replicates of a run's phase figures and overall error rate (module docstring)."""
    rng = np.random.default_rng(seed)
    n = analysis.run.duration_s
    baseline, spike = phase_masks(analysis.run, excused_seconds(analysis.faults, n))
    replicates = {
        **_phase(analysis, "baseline", baseline, rng),
        **_phase(analysis, "spike", spike, rng),
    }
    replicates |= _phase(analysis, "overall", np.ones(n, dtype=np.bool_), rng, latency=False)
    seconds = {"overall error rate": n}
    for name, mask in (("baseline", baseline), ("spike", spike)):
        for figure in ("p95", "p99", "error rate"):
            seconds[f"{name} {figure}"] = int(mask.sum())
    return RunNoise(replicates, seconds)


def why_no_interval(a: RunNoise, b: RunNoise, label: str) -> str:
    """Why a figure has no interval: it has no per-second data, or too few seconds."""
    if label not in a.seconds or label not in b.seconds:
        return "no per-second data"
    fewest = min(a.seconds[label], b.seconds[label])
    if fewest < MIN_SECONDS:
        return f"{fewest} s of data, too few for an interval"
    return "no interval (replicates without requests)"


def delta_interval(a: RunNoise, b: RunNoise, label: str) -> tuple[float, float] | None:
    """The :data:`CONFIDENCE` interval of ``B − A`` of a figure, from independent replicates
    of both runs; None when either has none (the figure is judged on its floor alone)."""
    if label not in a.replicates or label not in b.replicates:
        return None
    difference = b.replicates[label] - a.replicates[label]
    difference = difference[np.isfinite(difference)]
    if len(difference) < RESAMPLES // 2:  # mostly empty replicates: no honest interval
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(difference, [tail, 100 - tail])
    return float(low), float(high)
