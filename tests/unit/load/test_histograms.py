"""The worker's per-second latency buffer: its HDR histogram is the one ``record_ms`` builds."""

from __future__ import annotations

import random

import pytest
from hdrh.histogram import HdrHistogram

from spikekit.load import histograms as hdr

PERCENTILES = (0.0, 1.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0)


def recorded(values: list[float]) -> HdrHistogram:
    histogram = hdr.new_histogram()
    for value in values:
        hdr.record_ms(histogram, value)
    return histogram


def assert_same(expected: HdrHistogram, actual: HdrHistogram) -> None:
    assert list(actual.counts) == list(expected.counts)
    assert actual.get_total_count() == expected.get_total_count()
    assert actual.get_min_value() == expected.get_min_value()
    assert actual.get_max_value() == expected.get_max_value()
    assert actual.get_mean_value() == expected.get_mean_value()
    for p in PERCENTILES:
        assert actual.get_value_at_percentile(p) == expected.get_value_at_percentile(p)
    assert hdr.encode(actual) == hdr.encode(expected)


@pytest.mark.parametrize("seed", range(20))
def test_a_buffered_second_equals_recording_every_value(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice([1, 2, 17, 1000, 5000])
    values = [
        rng.choice(
            [
                rng.lognormvariate(2, 1.5),  # typical latencies, ms
                rng.uniform(0, 0.002),  # below 1 µs: clamped up
                rng.uniform(0, 400_000),  # up to past 5 minutes: clamped down
                float(rng.randint(1, 30_000)),
                0.0005,  # exactly half a microsecond: rounds to even
                0.0015,
            ]
        )
        for _ in range(n)
    ]
    buffer = hdr.LatencyBuffer()
    for value in values:
        buffer.add(value)
    assert len(buffer) == n
    assert_same(recorded(values), buffer.histogram())


def test_bucket_edges_land_where_hdrh_puts_them() -> None:
    # every power of two and its neighbours, in µs, across the whole trackable range
    micros = [v for k in range(29) for v in (2**k - 1, 2**k, 2**k + 1) if v >= 1]
    values = [m / 1000.0 for m in micros] + [hdr.HIGHEST_US / 1000.0]
    assert_same(recorded(values), hdr.histogram_of_ms(values))


def test_an_empty_buffer_is_an_empty_histogram() -> None:
    histogram = hdr.LatencyBuffer().histogram()
    assert histogram.get_total_count() == 0
    assert hdr.encode(histogram) == hdr.encode(hdr.new_histogram())


def test_buffered_histograms_merge_like_recorded_ones() -> None:
    rng = random.Random(9)
    parts = [[rng.lognormvariate(3, 1) for _ in range(2000)] for _ in range(3)]
    merged = hdr.merge([hdr.decode(hdr.encode(hdr.histogram_of_ms(p))) for p in parts])
    assert_same(recorded([v for p in parts for v in p]), merged)
