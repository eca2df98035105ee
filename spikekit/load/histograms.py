"""HDR latency histograms: the one histogram shape of the load engine, encoded for the wire.

Latencies are recorded in microseconds from 1 µs to 5 minutes with 3 significant digits
(0.1 % resolution), so p99 is right where Locust's rounded buckets are not. Workers encode
(``hdrh`` ``encode()``, base64) and the master decodes and adds them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

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
