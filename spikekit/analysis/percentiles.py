"""Latency percentiles over windows of seconds, exact to HDR precision.

Why: the p95 of a window is not the mean of its seconds' p95s (a quiet slow second and a
busy fast one average to a figure no request had). The load engine keeps every second's
HDR histogram per endpoint (``latency_histograms.parquet``,
:mod:`spikekit.rundir.second_histograms`); here a window's histograms are added up and the
percentile read from the sum exactly as hdrh's ``get_value_at_percentile`` reads it: the
first bucket whose cumulative count reaches ``max(1, int(p / 100 · total + 0.5))``, its
highest equivalent value, in ms.

How, fast (a 2-hour run has 7,200 seconds × endpoints, a histogram of 20,480 buckets
each): an endpoint's histograms are (second, column, count) triples, the columns being
only the buckets that ever occur (:func:`view`), gathered a chunk of seconds at a time.
Rolling windows (:func:`rolling`) go through the seconds in chunks, each a dense
(seconds × columns) matrix: the window's sum at ``t`` is the sum at ``t - 1`` plus second
``t`` minus second ``t - window`` (a cumulative sum down the chunk), then a cumulative sum
along the buckets finds each row's percentile. Memory stays under :data:`CELLS` cells per
matrix whatever the window. :func:`blocks` (adjacent blocks of seconds, the plots) and
:func:`over` (any set of seconds, the phases) add up with ``bincount``.

Older run directories (no histograms): :func:`approximate_rolling`, the request-weighted
mean of per-second percentiles that spikekit used before (said once when the run is
loaded). A window holding a second with requests but no histogram (a part file lost to a
full disk, the last seconds of a killed run) falls back to the same approximation
(:func:`windowed`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spikekit.analysis import series as s
from spikekit.rundir.second_histograms import (
    COUNTS_LEN,
    Compact,
    LatencyHistograms,
    highest_equivalent_us,
)

Ints = NDArray[np.int64]

#: Timeseries columns and the percentile each holds.
PERCENTILES = {"p50_ms": 50.0, "p95_ms": 95.0, "p99_ms": 99.0}
#: Cells of one dense (seconds × buckets) matrix (int64: 16 MiB).
CELLS = 1 << 21
#: Seconds gathered at once where no matrix sets the chunk.
SPAN = 256


@dataclass(frozen=True)
class View:
    """One endpoint's histograms (``"*"``: every endpoint's) over ``[start, stop)``: the
    buckets that occur there become the columns of the dense matrices
    (``column_of[bucket]``); the pairs are gathered a chunk of seconds at a time, so that a
    2-hour run's tens of millions never sit in memory twice."""

    data: LatencyHistograms
    endpoint: str
    start: int
    stop: int
    buckets: Ints  # the bucket index of each column, ascending
    column_of: Ints  # COUNTS_LEN long
    seconds: Ints  # the seconds that have a histogram row

    @property
    def width(self) -> int:
        return len(self.buckets)

    def triples(self, lo: int, hi: int) -> tuple[Ints, Ints, Compact]:
        """(second, column, count) of every pair in seconds ``[lo, hi)`` (within the view)."""
        rows = self.data.rows(self.endpoint, max(lo, self.start), min(hi, self.stop))
        return rows.seconds, self.column_of[rows.bucket], rows.count


def view(data: LatencyHistograms, endpoint: str, start: int, stop: int) -> View:
    if start <= 0 and stop > data.last_t:  # the whole run: known once per endpoint
        present = data.present(endpoint)
    else:
        present = np.zeros(COUNTS_LEN, dtype=np.bool_)
        for lo in range(start, stop, SPAN):
            present[data.rows(endpoint, lo, min(lo + SPAN, stop)).bucket] = True
    return View(
        data=data,
        endpoint=endpoint,
        start=start,
        stop=stop,
        buckets=np.flatnonzero(present).astype(np.int64),
        column_of=(np.cumsum(present) - 1).astype(np.int64),
        seconds=data.seconds(endpoint, start, stop),
    )


def _read(histograms: Ints, percentile: float, buckets: Ints) -> s.Floats:
    """The percentile (ms) of each row of a dense (rows × columns) matrix; NaN when empty."""
    cumulative = np.cumsum(histograms, axis=1)
    total = cumulative[:, -1]
    # hdrh: int(((min(p, 100) * total / 100)) + 0.5), at least 1 (the same float64 steps)
    target = np.maximum(np.floor(min(percentile, 100.0) * total / 100.0 + 0.5), 1.0)
    column = np.argmax(cumulative >= target.astype(np.int64)[:, None], axis=1)
    values = highest_equivalent_us(buckets[column]).astype(np.float64) / 1000.0
    out: s.Floats = np.where(total > 0, values, np.nan)
    return out


def _dense(v: View, first: int, size: int, per: int = 1) -> Ints:
    """The (size × columns) counts of seconds ``first .. first + size * per - 1``, ``per``
    seconds a row (seconds outside the view count nothing)."""
    second, column, count = v.triples(first, first + size * per)
    if len(second) == 0:
        return np.zeros((size, v.width), dtype=np.int64)
    offset = second - first
    key = (offset if per == 1 else offset // per) * v.width + column
    # float64 weights: exact for counts below 2**53
    summed = np.bincount(key, weights=count, minlength=size * v.width)
    dense: Ints = summed.astype(np.int64).reshape(size, v.width)
    return dense


def rolling(v: View, window: int, percentiles: Sequence[float]) -> dict[float, s.Floats]:
    """Per second ``t`` of the view, the percentiles of the seconds
    ``[max(start, t - window + 1), t]`` added up (index ``t - start``; NaN: no request)."""
    size_out = max(v.stop - v.start, 0)
    out = {p: np.full(size_out, np.nan) for p in percentiles}
    if v.width == 0 or size_out == 0:
        return out
    chunk = max(1, CELLS // v.width)
    current = np.zeros(v.width, dtype=np.int64)  # the window's sum at t = first - 1
    # the last `window` seconds before the chunk, when they fit: leaving seconds are then
    # taken from them and the chunk, not gathered again
    tail = np.zeros((window, v.width), dtype=np.int64) if window <= chunk else None
    for first in range(v.start, v.stop, chunk):
        size = min(chunk, v.stop - first)
        entering = _dense(v, first, size)
        if tail is None:
            leaving = _dense(v, first - window, size)
        else:
            stacked = np.concatenate((tail, entering))
            leaving, tail = stacked[:size], stacked[size:]
        sums = np.cumsum(entering - leaving, axis=0) + current
        current = sums[-1].copy()
        for p in percentiles:
            out[p][first - v.start : first - v.start + size] = _read(sums, p, v.buckets)
    return out


def blocks(v: View, size: int, percentiles: Sequence[float]) -> dict[float, s.Floats]:
    """The percentiles of each block of ``size`` seconds of the view (block ``i``: seconds
    ``start + i * size`` to ``start + i * size + size - 1``)."""
    n = max(v.stop - v.start, 0)
    count = math.ceil(n / size)
    out = {p: np.full(count, np.nan) for p in percentiles}
    if v.width == 0 or count == 0:
        return out
    chunk = max(1, CELLS // v.width)
    for first in range(0, count, chunk):
        number = min(chunk, count - first)
        dense = _dense(v, v.start + first * size, number, per=size)
        for p in percentiles:
            out[p][first : first + number] = _read(dense, p, v.buckets)
    return out


def over(v: View, mask: s.Bools, percentiles: Sequence[float]) -> dict[float, float | None]:
    """The percentiles of the seconds where ``mask`` (indexed by second) is true, added up
    (None: no request)."""
    summed = np.zeros(v.width, dtype=np.int64)
    for lo in range(v.start, min(v.stop, len(mask)), SPAN):
        second, column, count = v.triples(lo, lo + SPAN)
        keep = mask[second[second < len(mask)]]
        keep = np.concatenate((keep, np.zeros(len(second) - len(keep), dtype=np.bool_)))
        counts = np.bincount(
            column[keep], weights=count[keep].astype(np.float64), minlength=v.width
        )
        summed += counts.astype(np.int64)
    if not summed.any():
        return dict.fromkeys(percentiles)
    return {p: float(_read(summed[None, :], p, v.buckets)[0]) for p in percentiles}


# --- with the run's per-second table: exact where the histograms cover, else approximate --


def approximate_rolling(rows: Any, column: str, window: int, start: int, stop: int) -> s.Floats:
    """The request-weighted mean of the per-second ``column`` of timeseries ``rows`` over
    the trailing windows clipped to ``[start, stop)`` (the approximation of old runs)."""
    served = rows[(rows["requests"] > 0) & rows[column].notna()]  # NaN: not known, not 0 ms
    requests = s.per_second(served, "requests", stop)[start:stop]
    weighted = s.per_second(served.assign(w=served[column] * served["requests"]), "w", stop)
    return s.rolling_ratio(weighted[start:stop], requests, window)


def _holes(rows: Any, v: View) -> s.Bools:
    """Seconds of the view with requests in the table but no histogram (index t - start)."""
    start, stop = v.start, v.stop
    requests = s.per_second(rows, "requests", stop)[start:stop]
    covered = np.zeros(max(stop - start, 0), dtype=np.bool_)
    covered[v.seconds - start] = True
    holes: s.Bools = (requests > 0) & ~covered
    return holes


def windowed(
    timeseries: Any,
    histograms: LatencyHistograms | None,
    endpoint: str,
    column: str,
    window: int,
    start: int,
    stop: int,
) -> s.Floats:
    """The rolling percentile ``column`` (``p95_ms`` …) of ``endpoint`` (``"*"``: all) at
    each second of ``[start, stop)`` over windows clipped to it: exact from the histograms,
    approximate without them and for windows holding a second they miss."""
    rows = s.endpoint_rows(timeseries, endpoint)
    approximate = approximate_rolling(rows, column, window, start, stop)
    if histograms is None:
        return approximate
    v = view(histograms, endpoint, start, stop)
    exact = rolling(v, window, (PERCENTILES[column],))[PERCENTILES[column]]
    holes = _holes(rows, v)
    if holes.any():
        spoilt = s.rolling_sum(holes.astype(np.float64), window) > 0
        exact = np.where(spoilt, approximate, exact)
    return exact


def over_seconds(
    timeseries: Any,
    histograms: LatencyHistograms | None,
    endpoint: str,
    mask: s.Bools,
    columns: Sequence[str],
) -> dict[str, float | None] | None:
    """The percentiles ``columns`` of ``endpoint`` over the seconds of ``mask``, exact;
    None without histograms or when they miss one of those seconds (the caller
    approximates)."""
    if histograms is None:
        return None
    v = view(histograms, endpoint, 0, len(mask))
    if (_holes(s.endpoint_rows(timeseries, endpoint), v) & mask).any():
        return None
    values = over(v, mask, [PERCENTILES[c] for c in columns])
    return {c: values[PERCENTILES[c]] for c in columns}


def per_block(
    timeseries: Any,
    histograms: LatencyHistograms | None,
    endpoint: str,
    columns: Sequence[str],
    size: int,
    n: int,
) -> tuple[dict[str, s.Floats], s.Bools] | None:
    """The percentiles ``columns`` of each block of ``size`` seconds, exact, and which
    blocks miss a second's histogram (their values are not to be trusted); None without
    histograms."""
    if histograms is None:
        return None
    v = view(histograms, endpoint, 0, n)
    values = blocks(v, size, [PERCENTILES[c] for c in columns])
    holes = _holes(s.endpoint_rows(timeseries, endpoint), v)
    count = math.ceil(n / size)
    padded = np.zeros(count * size, dtype=np.bool_)
    padded[: len(holes)] = holes
    spoilt: s.Bools = np.any(padded.reshape(count, size), axis=1)
    return {c: values[PERCENTILES[c]] for c in columns}, spoilt
