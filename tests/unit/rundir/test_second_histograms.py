"""``latency_histograms.parquet``: written in parts, merged, read back whole; a killed run's
parts read without the merge, a torn part skipped; the index arithmetic is hdrh's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spikekit.errors import ConfigError
from spikekit.load import histograms as hdr
from spikekit.rundir import layout
from spikekit.rundir import second_histograms as sh


def row(t: int, endpoint: str, latencies_ms: list[float]) -> sh.SecondHistogram:
    histogram = hdr.histogram_of_ms(latencies_ms)
    return sh.SecondHistogram(
        t, endpoint, *sh.sparse_counts(np.ctypeslib.as_array(histogram.counts))
    )


def rows_of(n: int) -> list[sh.SecondHistogram]:
    rng = np.random.default_rng(5)
    return [
        row(t, endpoint, list(rng.lognormal(3.0, 0.7, int(rng.integers(1, 200)))))
        for t in range(n)
        for endpoint in ("GET /a", "POST /b")
    ]


def test_the_shape_is_the_load_engines() -> None:
    histogram = hdr.new_histogram()
    assert (sh.LOWEST_US, sh.HIGHEST_US, sh.SIGNIFICANT_DIGITS) == (
        hdr.LOWEST_US,
        hdr.HIGHEST_US,
        hdr.SIGNIFICANT_DIGITS,
    )
    assert histogram.counts_len == sh.COUNTS_LEN
    assert histogram.unit_magnitude == sh.UNIT_MAGNITUDE
    assert histogram.sub_bucket_half_count_magnitude == sh.SUB_BUCKET_HALF_COUNT_MAGNITUDE
    assert histogram.bucket_count == sh.BUCKET_COUNT


def test_bucket_values_are_hdrhs_for_every_index() -> None:
    histogram = hdr.new_histogram()
    index = np.arange(sh.COUNTS_LEN, dtype=np.int64)
    want = [
        histogram.get_highest_equivalent_value(histogram.get_value_from_index(int(i)))
        for i in index
    ]
    assert sh.highest_equivalent_us(index).tolist() == want
    values = np.unique(
        np.concatenate(
            [np.arange(1, 5000), np.random.default_rng(0).integers(1, sh.HIGHEST_US, 20_000)]
        )
    ).astype(np.int64)
    assert sh.counts_index(values).tolist() == [histogram._counts_index_for(int(v)) for v in values]


def test_parts_merge_into_one_file_read_back_whole(tmp_path: Path) -> None:
    rows = rows_of(30)
    writer = sh.PartWriter(tmp_path)
    assert writer.write([]) is None
    for first in range(0, len(rows), 20):
        writer.write(rows[first : first + 20])
    assert len(list(sh.parts_dir(tmp_path).iterdir())) == 3
    merged = sh.merge_parts(tmp_path)
    assert merged == tmp_path / layout.LATENCY_HISTOGRAMS and merged.is_file()
    assert not sh.parts_dir(tmp_path).exists()
    stored = pq.read_table(merged, columns=["endpoint", "t"]).to_pylist()
    keys = [(r["endpoint"], r["t"]) for r in stored]
    assert keys == sorted(keys)  # ordered as the reader holds it: nothing to permute
    histograms = sh.read_latency_histograms(tmp_path)
    assert histograms is not None and len(histograms) == len(rows)
    assert histograms.endpoints == ("GET /a", "POST /b")
    chosen = histograms.rows("POST /b", 10, 13)
    assert chosen.t.tolist() == [10, 11, 12]
    for i, want in enumerate(r for r in rows if r.endpoint == "POST /b" and 10 <= r.t < 13):
        pairs = slice(chosen.offsets[i], chosen.offsets[i + 1])
        assert chosen.bucket[pairs].tolist() == want.bucket.tolist()
        assert chosen.count[pairs].tolist() == want.count.tolist()
    everything = histograms.rows("*", 29, 30)
    assert everything.t.tolist() == [29, 29] and int(everything.count.sum()) == sum(
        int(r.count.sum()) for r in rows if r.t == 29
    )
    assert len(histograms.rows("GET /nothing").t) == 0


def test_a_killed_run_is_read_from_its_parts_a_torn_one_skipped(tmp_path: Path) -> None:
    rows = rows_of(12)
    writer = sh.PartWriter(tmp_path)
    writer.write(rows[:10])
    writer.write(rows[10:20])
    parts = sh.parts_dir(tmp_path)
    (parts / layout.METRICS_PART.format(3)).write_bytes(b"PAR1 cut short by the kill")
    (parts / "part-000004.parquet.tmp").write_bytes(b"half")
    histograms = sh.read_latency_histograms(tmp_path)
    assert histograms is not None and len(histograms) == 20
    assert sh.PartWriter(tmp_path).number == 3  # a writer after them never writes over one
    assert sh.merge_parts(tmp_path) is not None  # the torn part is left out of the merge too
    again = sh.read_latency_histograms(tmp_path)
    assert again is not None and len(again) == 20


def test_no_file_no_parts_is_none(tmp_path: Path) -> None:
    assert sh.read_latency_histograms(tmp_path) is None
    assert sh.merge_parts(tmp_path) is None


def test_a_bucket_out_of_the_shape_names_the_file_and_column(tmp_path: Path) -> None:
    bad = sh.SecondHistogram(0, "GET /a", np.array([sh.COUNTS_LEN], np.int32), np.array([1]))
    pq.write_table(sh.histograms_table([bad]), tmp_path / layout.LATENCY_HISTOGRAMS)
    with pytest.raises(ConfigError, match=r"latency_histograms\.parquet: 'bucket' out of"):
        sh.read_latency_histograms(tmp_path)
    table = sh.histograms_table([row(0, "*", [1.0])])
    with pytest.raises(ConfigError, match="'endpoint' '\\*'"):
        sh.histograms_of_table(table, tmp_path / "x.parquet")
    other = pa.table({"t": [0], "endpoint": ["GET /a"]})
    pq.write_table(other, tmp_path / layout.LATENCY_HISTOGRAMS)
    with pytest.raises(
        ConfigError, match=r"latency_histograms\.parquet: null values in \[.bucket., .count.\]"
    ):
        sh.read_latency_histograms(tmp_path)
