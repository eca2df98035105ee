"""HDR latency histograms: the one histogram shape of the load engine, encoded for the wire.

Latencies are recorded in microseconds from 1 µs to 5 minutes with 3 significant digits
(0.1 % resolution), so p99 is right where Locust's rounded buckets are not. Workers encode
(``hdrh`` ``encode()``, base64) and the master decodes and adds them.

On a worker's hot path a request only appends its latency to a :class:`LatencyBuffer` (hdrh's
``record_value`` is pure Python, about 1.5 µs a call); the second's histogram is built from
the buffer once, vectorised (:func:`histogram_of_ms`), equal to recording every value with
:func:`record_ms`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 300_000_000
SIGNIFICANT_DIGITS = 3


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record_ms(histogram: HdrHistogram, milliseconds: float) -> None:
    """Record one latency given in milliseconds (clamped into the trackable range)."""
    micros = min(max(round(milliseconds * 1000.0), LOWEST_US), HIGHEST_US)
    histogram.record_value(micros)


def histogram_of_ms(latencies_ms: Iterable[float]) -> HdrHistogram:
    """A histogram of latencies given in milliseconds, as if each went through
    :func:`record_ms` (same rounding and clamping, same buckets), built in one pass."""
    histogram = new_histogram()
    values = np.fromiter(latencies_ms, dtype=np.float64)
    if values.size == 0:
        return histogram
    # round() and np.rint() both round half to even: the same microseconds as record_ms.
    micros = np.clip(np.rint(values * 1000.0), LOWEST_US, HIGHEST_US).astype(np.int64)
    index = _counts_index(histogram, micros)
    counts = np.ctypeslib.as_array(histogram.counts)
    counts += np.bincount(index, minlength=histogram.counts_len).astype(counts.dtype)
    # What hdrh itself does after adding decoded counts: min, max and total from the counts.
    histogram.set_internal_tacking_values(int(index.min()), int(index.max()), int(micros.size))
    return histogram


def _counts_index(histogram: HdrHistogram, values: np.ndarray) -> np.ndarray:
    """hdrh's ``_counts_index_for`` over an array of positive integers (exact: the values
    stay below 2**53, so their float64 exponent is their bit length)."""
    unit: int = histogram.unit_magnitude
    half_magnitude: int = histogram.sub_bucket_half_count_magnitude
    half_count: int = histogram.sub_bucket_half_count
    mask: int = histogram.sub_bucket_mask
    _, bit_length = np.frexp((values | mask).astype(np.float64))
    bucket = bit_length.astype(np.int64) - unit - (half_magnitude + 1)
    sub_bucket = values >> (bucket + unit)
    return ((bucket + 1) << half_magnitude) + sub_bucket - half_count


class LatencyBuffer:
    """The latencies (ms) of one endpoint in one second: appended as requests complete,
    turned into an HDR histogram once (:meth:`histogram`)."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: array[float] = array("d")

    def add(self, milliseconds: float) -> None:
        self._values.append(milliseconds)

    def __len__(self) -> int:
        return len(self._values)

    def histogram(self) -> HdrHistogram:
        return histogram_of_ms(self._values)


def encode(histogram: HdrHistogram) -> str:
    return bytes(histogram.encode()).decode("ascii")


def decode(text: str) -> HdrHistogram:
    return HdrHistogram.decode(text.encode("ascii"))


def merge(histograms: list[HdrHistogram]) -> HdrHistogram:
    total = new_histogram()
    for histogram in histograms:
        total.add(histogram)
    return total


class Percentiles(NamedTuple):
    """Latency percentiles in milliseconds; NaN when nothing was recorded."""

    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def percentiles(histogram: HdrHistogram) -> Percentiles:
    if histogram.get_total_count() == 0:
        return Percentiles(math.nan, math.nan, math.nan, math.nan)

    def ms(value: int) -> float:
        return float(value) / 1000.0

    return Percentiles(
        ms(histogram.get_value_at_percentile(50)),
        ms(histogram.get_value_at_percentile(95)),
        ms(histogram.get_value_at_percentile(99)),
        ms(histogram.get_max_value()),
    )
