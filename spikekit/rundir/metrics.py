"""``platform_metrics.parquet``: what telemetry recorded of the platform, long format
(``t, service, metric, labels, value``, :data:`METRICS_SCHEMA`).

The recorder writes a closed part file every flush under ``platform_metrics.parts/``
(:func:`write_part`, atomically: a kill leaves a ``.tmp`` file, never a torn part) and
merges them into the one file at the end (:func:`merge_parts`). Recoveries after a kill
(salvage): :func:`recover_from_parts` merges the parts when the file is missing, and
:func:`set_aside_unclosed` renames a file whose writer was never closed (no footer, runs of
spikekit before the part files) to ``*.torn``, bytes kept.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spikekit.rundir.files import replace_atomically
from spikekit.rundir.layout import (
    METRICS_PART,
    METRICS_PART_GLOB,
    PLATFORM_METRICS,
    PLATFORM_METRICS_PARTS,
    TMP,
    TORN,
    with_suffix,
)
from spikekit.rundir.tables import METRICS_SCHEMA, write_parquet

__all__ = [
    "METRICS_SCHEMA",
    "merge_parts",
    "metrics_path",
    "parts_dir",
    "recover_from_parts",
    "set_aside_unclosed",
    "write_part",
]


def metrics_path(run_dir: Path) -> Path:
    return run_dir / PLATFORM_METRICS


def parts_dir(run_dir: Path) -> Path:
    return run_dir / PLATFORM_METRICS_PARTS


def write_part(parts: Path, number: int, table: pa.Table) -> None:
    """Part ``number`` (from 1), under its name only once complete."""
    path = parts / METRICS_PART.format(number)
    replace_atomically(path, functools.partial(write_parquet, table), TMP)


def merge_parts(parts: Path, target: Path) -> int:
    """Write the part files under ``parts`` into ``target`` in order, then remove ``parts``.

    Returns the number of parts merged; with none, ``target`` is an empty table (the
    schema, no rows).
    """
    files = sorted(parts.glob(METRICS_PART_GLOB)) if parts.is_dir() else []
    tmp = with_suffix(target, TMP)
    with pq.ParquetWriter(tmp, METRICS_SCHEMA) as writer:
        for part in files:
            writer.write_table(pq.read_table(part, schema=METRICS_SCHEMA))
    tmp.replace(target)
    shutil.rmtree(parts, ignore_errors=True)
    return len(files)


def _readable(path: Path) -> bool:
    try:
        pq.ParquetFile(path)
    except Exception:  # pyarrow raises several unrelated types for a file without footer
        return False
    return True


def set_aside_unclosed(run_dir: Path) -> bool:
    """A ``platform_metrics.parquet`` without its footer: renamed ``*.torn``. Whether it was."""
    metrics = metrics_path(run_dir)
    torn = with_suffix(metrics, TORN)
    if not metrics.is_file() or _readable(metrics) or torn.exists():
        return False
    metrics.rename(torn)
    return True


def recover_from_parts(run_dir: Path) -> int | None:
    """``platform_metrics.parquet`` from the part files when it is missing: the number of
    parts merged, None when there was nothing to do (parts left beside a merged file are
    removed)."""
    parts = parts_dir(run_dir)
    if not parts.is_dir():
        return None
    metrics = metrics_path(run_dir)
    if metrics.is_file():  # merged before the kill; only the parts were left
        shutil.rmtree(parts, ignore_errors=True)
        return None
    return merge_parts(parts, metrics)
