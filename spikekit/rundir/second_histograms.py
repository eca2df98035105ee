"""``latency_histograms.parquet``: per second and endpoint, the load's HDR latency histogram.

Why: a percentile over a window of seconds cannot be made from per-second percentiles (a
mean of p95s is not the p95 of the window); it can from the window's histograms added up.
The whole-run ``histograms.json`` is one histogram per endpoint; this file keeps every
second's.

**Format.** One row per second and endpoint: ``t`` int64, ``endpoint`` string (never
``"*"``: all requests together are the sum of the endpoints' rows, so they are not stored
twice), ``bucket`` list<int32> and ``count`` list<int64>: the non-zero counts of the HDR
histogram, in the one bucket-index space of the load engine's histogram shape
(:data:`LOWEST_US` … :data:`HIGHEST_US` µs, :data:`SIGNIFICANT_DIGITS` digits, the counts
array of hdrh, :data:`COUNTS_LEN` long), buckets ascending. A ``(t, endpoint)`` may have more
than one row (a worker's report that came after its second was published): rows add up.
zstd-compressed (level 3), buckets delta-encoded: about 1.3 bytes per non-zero bucket.

**Crash safety.** The load master writes a closed part file every
:data:`FLUSH_EVERY_S` seconds under ``latency_histograms.parts/`` (:class:`PartWriter`, each
under its name only once complete) and merges them into the one file at the end
(:func:`merge_parts`). A killed run keeps its parts: :func:`read_latency_histograms` reads
the file, else the parts, skipping any part it cannot read.

**Reading.** :class:`LatencyHistograms` holds every row as flat arrays (one Arrow read, no
Python loop over rows) and selects an endpoint's rows over a range of seconds
(:meth:`LatencyHistograms.rows`). :func:`counts_index` and :func:`highest_equivalent_us`
are hdrh's own index arithmetic, vectorised, so that a reader can turn buckets into
microseconds exactly as hdrh's ``get_value_at_percentile`` does.
"""

from __future__ import annotations

import functools
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from spikekit.errors import ConfigError
from spikekit.rundir.files import replace_atomically
from spikekit.rundir.layout import (
    LATENCY_HISTOGRAMS,
    LATENCY_HISTOGRAMS_PARTS,
    METRICS_PART,
    METRICS_PART_GLOB,
    TMP,
    with_suffix,
)

log = logging.getLogger(__name__)

Ints = NDArray[np.int64]
Compact = NDArray[np.signedinteger[Any]]  # int16 buckets, int32 counts when they fit

# The load engine's histogram shape (spikekit.load.histograms uses the same; a unit test
# checks they agree) and what hdrh derives from it.
LOWEST_US = 1
HIGHEST_US = 300_000_000
SIGNIFICANT_DIGITS = 3
UNIT_MAGNITUDE = 0  # floor(log2(LOWEST_US))
SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10  # ceil(log2(2 * 10**3)) - 1
SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE
SUB_BUCKET_COUNT = 2 * SUB_BUCKET_HALF_COUNT
SUB_BUCKET_MASK = (SUB_BUCKET_COUNT - 1) << UNIT_MAGNITUDE
BUCKET_COUNT = 19  # doublings of SUB_BUCKET_COUNT until HIGHEST_US is trackable
COUNTS_LEN = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT

#: The master writes a part file every this many run seconds.
FLUSH_EVERY_S = 10
ALL = "*"

SCHEMA = pa.schema(
    [
        ("t", pa.int64()),
        ("endpoint", pa.string()),
        ("bucket", pa.list_(pa.int32())),
        ("count", pa.list_(pa.int64())),
    ]
)
_WRITE_OPTIONS = {
    "compression": "zstd",
    # level 9 is 2 % smaller on a full-scale second and 3.6x slower to write: not worth it
    "compression_level": 3,
    "use_dictionary": ["endpoint"],
    "column_encoding": {"bucket": "DELTA_BINARY_PACKED"},
}


@dataclass(frozen=True)
class SecondHistogram:
    """One row: the non-zero counts of one endpoint's histogram in second ``t``."""

    t: int
    endpoint: str
    bucket: NDArray[np.int32]
    count: Ints


def sparse_counts(counts: NDArray[np.integer]) -> tuple[NDArray[np.int32], Ints]:
    """The non-zero entries of a dense hdrh counts array (``np.ctypeslib.as_array``)."""
    index = np.flatnonzero(counts)
    return index.astype(np.int32), np.asarray(counts[index], dtype=np.int64)


def counts_index(values_us: Ints) -> Ints:
    """hdrh's ``_counts_index_for`` over an array of positive integers (µs): exact, the
    values stay below 2**53, so their float64 exponent is their bit length."""
    _, bit_length = np.frexp((values_us | SUB_BUCKET_MASK).astype(np.float64))
    bucket = bit_length.astype(np.int64) - UNIT_MAGNITUDE - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)
    sub_bucket = values_us >> (bucket + UNIT_MAGNITUDE)
    index: Ints = ((bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket
    return index - SUB_BUCKET_HALF_COUNT


def highest_equivalent_us(index: Ints) -> Ints:
    """What hdrh's ``get_value_at_percentile`` answers for a percentile reached at bucket
    ``index``: ``get_highest_equivalent_value(get_value_from_index(index))``."""
    index = np.asarray(index, dtype=np.int64)
    bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1
    sub_bucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT
    first = bucket < 0
    sub_bucket = np.where(first, sub_bucket - SUB_BUCKET_HALF_COUNT, sub_bucket)
    bucket = np.where(first, 0, bucket)
    value = sub_bucket << (bucket + UNIT_MAGNITUDE)
    # get_highest_equivalent_value(value): its bucket again, from the value
    _, bit_length = np.frexp((value | SUB_BUCKET_MASK).astype(np.float64))
    own = bit_length.astype(np.int64) - UNIT_MAGNITUDE - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)
    own_sub = value >> (own + UNIT_MAGNITUDE)
    lowest = own_sub << (own + UNIT_MAGNITUDE)
    own = np.where(own_sub >= SUB_BUCKET_COUNT, own + 1, own)
    highest: Ints = lowest + (np.int64(1) << (UNIT_MAGNITUDE + own)) - 1
    return highest


# --- writing ---------------------------------------------------------------------------


def histograms_table(rows: Sequence[SecondHistogram]) -> pa.Table:
    lengths = np.fromiter((len(r.bucket) for r in rows), dtype=np.int32, count=len(rows))
    offsets = pa.array(np.concatenate(([0], np.cumsum(lengths, dtype=np.int32))), pa.int32())
    buckets = np.concatenate([r.bucket for r in rows]) if rows else np.zeros(0, np.int32)
    counts = np.concatenate([r.count for r in rows]) if rows else np.zeros(0, np.int64)
    columns = [
        pa.array([r.t for r in rows], pa.int64()),
        pa.array([r.endpoint for r in rows], pa.string()),
        pa.ListArray.from_arrays(offsets, pa.array(buckets.astype(np.int32), pa.int32())),
        pa.ListArray.from_arrays(offsets, pa.array(counts.astype(np.int64), pa.int64())),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def _write(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **_WRITE_OPTIONS)


def histograms_path(run_dir: Path) -> Path:
    return run_dir / LATENCY_HISTOGRAMS


def parts_dir(run_dir: Path) -> Path:
    return run_dir / LATENCY_HISTOGRAMS_PARTS


class PartWriter:
    """The load master's writer: part 1, 2, … under ``latency_histograms.parts/``, each
    under its name only once complete (a kill leaves a ``.tmp`` file, never a torn part)."""

    def __init__(self, run_dir: Path) -> None:
        self.parts = parts_dir(run_dir)
        existing = sorted(self.parts.glob(METRICS_PART_GLOB)) if self.parts.is_dir() else []
        # numbering goes on after parts already there (never one written over)
        self.number = int(existing[-1].name.split("-")[1].split(".")[0]) if existing else 0

    def write(self, rows: Sequence[SecondHistogram]) -> Path | None:
        """A part of ``rows`` (none without rows); OSError when it cannot be written."""
        if not rows:
            return None
        self.parts.mkdir(parents=True, exist_ok=True)
        self.number += 1
        path = self.parts / METRICS_PART.format(self.number)
        replace_atomically(path, functools.partial(_write, histograms_table(rows)), TMP)
        return path


def _readable_parts(parts: Path) -> list[Path]:
    readable = []
    for part in sorted(parts.glob(METRICS_PART_GLOB)) if parts.is_dir() else []:
        try:
            pq.ParquetFile(part).close()
        except Exception as error:  # pyarrow raises several unrelated types for a torn file
            log.warning("%s: unreadable, skipped (%s)", part, error)
            continue
        readable.append(part)
    return readable


def merge_parts(run_dir: Path) -> Path | None:
    """The part files into ``latency_histograms.parquet``, ordered by (endpoint, second) as
    the reader holds them (a row group per endpoint), then the parts removed; None (and
    nothing written) without any part. It holds the run's histograms in memory once
    (about 12 bytes per non-zero bucket: 0.5 GB for a 2-hour full-scale run)."""
    parts = parts_dir(run_dir)
    files = _readable_parts(parts)
    if not files:
        return None
    target = histograms_path(run_dir)
    tmp = with_suffix(target, TMP)
    try:
        table = pa.concat_tables(pq.read_table(part, schema=SCHEMA) for part in files)
        names = sorted(str(n) for n in pc.unique(table.column("endpoint")).to_pylist())
        with pq.ParquetWriter(tmp, SCHEMA, **_WRITE_OPTIONS) as writer:
            for name in names:
                rows = table.filter(pc.equal(table.column("endpoint"), name))
                writer.write_table(rows.sort_by("t"))
        del table
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    shutil.rmtree(parts, ignore_errors=True)
    return target


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HistogramRows:
    """Some rows, flat: row ``i`` holds ``bucket[offsets[i]:offsets[i + 1]]`` (its counts
    likewise), in second ``t[i]``; ordered by endpoint, then second. ``bucket`` is int16
    and ``count`` int32 when they fit (a 2-hour run holds tens of millions of pairs); an
    endpoint's rows are views of the whole, never copies."""

    t: Ints
    offsets: Ints
    bucket: Compact
    count: Compact

    @property
    def seconds(self) -> Ints:
        """The second of each (bucket, count) pair."""
        second: Ints = np.repeat(self.t, np.diff(self.offsets))
        return second


def _concatenate(parts: list[HistogramRows]) -> HistogramRows:
    if len(parts) == 1:
        return parts[0]
    lengths = np.concatenate([np.diff(p.offsets) for p in parts])
    return HistogramRows(
        t=np.concatenate([p.t for p in parts]),
        offsets=np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
        bucket=np.concatenate([p.bucket for p in parts]),
        count=np.concatenate([p.count for p in parts]),
    )


class LatencyHistograms:
    """Every row of the file as flat arrays, held ordered by (endpoint, second) so that an
    endpoint's seconds are one slice of them."""

    def __init__(
        self,
        t: Ints,
        endpoint: Ints,
        names: tuple[str, ...],
        offsets: Ints,
        bucket: Compact,
        count: Compact,
    ) -> None:
        order = np.lexsort((t, endpoint))
        if len(order) and not np.array_equal(order, np.arange(len(order))):
            lengths = np.diff(offsets)[order]
            pairs = np.arange(int(lengths.sum()), dtype=np.int64)
            starts = np.concatenate(([0], np.cumsum(lengths)))[:-1]
            pairs += np.repeat(offsets[order] - starts, lengths)
            t, endpoint = t[order], endpoint[order]
            offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
            bucket, count = bucket[pairs], count[pairs]
        self.t, self.endpoint, self.names = t, endpoint, names
        self.offsets, self.bucket, self.count = offsets, bucket, count
        codes = np.arange(len(names))
        self._first_row = np.searchsorted(endpoint, codes, "left")
        self._end_row = np.searchsorted(endpoint, codes, "right")
        self._present: dict[str, NDArray[np.bool_]] = {}

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(
            sorted(n for i, n in enumerate(self.names) if self._end_row[i] > self._first_row[i])
        )

    def __len__(self) -> int:
        return len(self.t)

    @property
    def last_t(self) -> int:
        """The last second with a row (-1: none)."""
        return int(self.t.max()) if len(self.t) else -1

    def _slice(self, code: int, start: int, stop: int | None) -> HistogramRows:
        first, end = int(self._first_row[code]), int(self._end_row[code])
        seconds = self.t[first:end]
        lo = first + int(np.searchsorted(seconds, start, "left"))
        hi = end if stop is None else first + int(np.searchsorted(seconds, stop, "left"))
        a, b = int(self.offsets[lo]), int(self.offsets[hi])
        return HistogramRows(
            self.t[lo:hi], self.offsets[lo : hi + 1] - a, self.bucket[a:b], self.count[a:b]
        )

    def rows(self, endpoint: str, start: int = 0, stop: int | None = None) -> HistogramRows:
        """The rows of ``endpoint`` (``"*"``: of every endpoint) with ``start <= t < stop``."""
        if endpoint == ALL:
            codes = list(range(len(self.names)))
        else:
            codes = [self.names.index(endpoint)] if endpoint in self.names else []
        if not codes:
            return HistogramRows(
                np.zeros(0, np.int64), np.zeros(1, np.int64), self.bucket[:0], self.count[:0]
            )
        return _concatenate([self._slice(code, start, stop) for code in codes])

    def seconds(self, endpoint: str, start: int = 0, stop: int | None = None) -> Ints:
        """The seconds in which ``endpoint`` (``"*"``: any) has a row, ascending."""
        if endpoint != ALL and endpoint not in self.names:
            return np.zeros(0, np.int64)  # no request of it was answered (an aborted run)
        codes = range(len(self.names)) if endpoint == ALL else [self.names.index(endpoint)]
        found = []
        for code in codes:
            first, end = int(self._first_row[code]), int(self._end_row[code])
            seconds = self.t[first:end]
            lo = int(np.searchsorted(seconds, start, "left"))
            hi = len(seconds) if stop is None else int(np.searchsorted(seconds, stop, "left"))
            found.append(seconds[lo:hi])
        return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)

    def present(self, endpoint: str) -> NDArray[np.bool_]:
        """Which buckets ever hold a count of ``endpoint`` (``"*"``: of any), over the run."""
        if endpoint not in self._present:
            if endpoint == ALL:
                found = np.zeros(COUNTS_LEN, dtype=np.bool_)
                for name in self.names:
                    found |= self.present(name)
            else:
                rows = self.rows(endpoint)
                found = np.bincount(rows.bucket, minlength=COUNTS_LEN) > 0
            self._present[endpoint] = found
        return self._present[endpoint]


def _flat(column: pa.ChunkedArray) -> tuple[Compact, Ints]:
    """(values in their own type, lengths) of a list column, over all its chunks."""
    values = [pc.list_flatten(chunk).to_numpy(zero_copy_only=False) for chunk in column.chunks]
    lengths = [
        pc.list_value_length(chunk).to_numpy(zero_copy_only=False) for chunk in column.chunks
    ]
    if not values:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (
        np.concatenate(values),
        np.concatenate(lengths).astype(np.int64, copy=False),
    )


def histograms_of_table(table: pa.Table, source: Path) -> LatencyHistograms:
    """The rows of ``table``; :class:`ConfigError` naming ``source`` and the column when a
    column is missing or a value is out of the format."""
    missing = [name for name in SCHEMA.names if name not in table.column_names]
    if missing:
        raise ConfigError(f"{source}: missing columns {missing}")
    nulls = [name for name in SCHEMA.names if table.column(name).null_count]
    if nulls:
        raise ConfigError(f"{source}: null values in {nulls} (missing columns?)")
    bucket, lengths = _flat(table.column("bucket"))
    count, count_lengths = _flat(table.column("count"))
    if not np.array_equal(lengths, count_lengths):
        raise ConfigError(f"{source}: 'bucket' and 'count' differ in length in some row")
    if len(bucket) and (bucket.min() < 0 or bucket.max() >= COUNTS_LEN):
        raise ConfigError(f"{source}: 'bucket' out of 0..{COUNTS_LEN - 1}")
    if len(count) and count.min() <= 0:
        raise ConfigError(f"{source}: 'count' must be positive (only non-zero counts are kept)")
    encoded = pc.dictionary_encode(table.column("endpoint").combine_chunks())
    names = tuple(str(n) for n in encoded.dictionary.to_pylist())
    if ALL in names:
        raise ConfigError(f"{source}: 'endpoint' {ALL!r}: all requests are the endpoints' sum")
    small = len(count) == 0 or int(count.max()) <= np.iinfo(np.int32).max
    return LatencyHistograms(
        t=table.column("t").to_numpy().astype(np.int64),
        endpoint=encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
        names=names,
        offsets=np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
        bucket=bucket.astype(np.int16),  # COUNTS_LEN < 2**15
        count=count.astype(np.int32) if small else count,
    )


def read_latency_histograms(run_dir: Path) -> LatencyHistograms | None:
    """``latency_histograms.parquet``, else its part files (a run killed before the merge),
    else None (a run directory of a spikekit before this file)."""
    path = histograms_path(run_dir)
    if path.is_file():
        try:
            table = pq.read_table(path, schema=SCHEMA)
        except Exception as error:  # pyarrow raises several unrelated types
            raise ConfigError(f"{path}: unreadable parquet: {error}") from error
        return histograms_of_table(table, path)
    files = _readable_parts(parts_dir(run_dir))
    if not files:
        return None
    table = pa.concat_tables(pq.read_table(part, schema=SCHEMA) for part in files)
    return histograms_of_table(table, parts_dir(run_dir))
