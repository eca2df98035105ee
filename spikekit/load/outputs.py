"""Write what the recorder collected into the run directory (see docs/run-directory.md).

``timeseries.parquet``, ``players.parquet``, ``histograms.json`` and ``generator.parquet``
(long format with the columns of ``platform_metrics.parquet``, service ``loadgen``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spikekit.load import histograms as hdr
from spikekit.load.recorder import Recorder

TIMESERIES = "timeseries.parquet"
PLAYERS = "players.parquet"
HISTOGRAMS = "histograms.json"
GENERATOR = "generator.parquet"
GENERATOR_SERVICE = "loadgen"

TIMESERIES_SCHEMA = pa.schema(
    [
        ("t", pa.int64()),
        ("endpoint", pa.string()),
        ("requests", pa.int64()),
        ("failures", pa.int64()),
        ("p50_ms", pa.float64()),
        ("p95_ms", pa.float64()),
        ("p99_ms", pa.float64()),
        ("max_ms", pa.float64()),
    ]
)
PLAYERS_SCHEMA = pa.schema(
    [("t", pa.int64()), ("target_players", pa.int64()), ("actual_players", pa.int64())]
)
GENERATOR_SCHEMA = pa.schema(
    [
        ("t", pa.int64()),
        ("service", pa.string()),
        ("metric", pa.string()),
        ("labels", pa.string()),
        ("value", pa.float64()),
    ]
)


def _write_table(table: pa.Table, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial)
    partial.replace(path)


def write_outputs(recorder: Recorder, run_dir: Path) -> list[Path]:
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = recorder.timeseries
    timeseries = pa.table(
        {
            "t": [r.t for r in rows],
            "endpoint": [r.endpoint for r in rows],
            "requests": [r.requests for r in rows],
            "failures": [r.failures for r in rows],
            "p50_ms": [r.p50_ms for r in rows],
            "p95_ms": [r.p95_ms for r in rows],
            "p99_ms": [r.p99_ms for r in rows],
            "max_ms": [r.max_ms for r in rows],
        },
        schema=TIMESERIES_SCHEMA,
    )
    players = pa.table(
        {
            "t": [r.t for r in recorder.players],
            "target_players": [r.target_players for r in recorder.players],
            "actual_players": [r.actual_players for r in recorder.players],
        },
        schema=PLAYERS_SCHEMA,
    )
    health = sorted(recorder.generator, key=lambda g: (g.t, g.metric, g.node))
    generator = pa.table(
        {
            "t": [g.t for g in health],
            "service": [GENERATOR_SERVICE] * len(health),
            "metric": [g.metric for g in health],
            "labels": [f"node={g.node}" for g in health],
            "value": [g.value for g in health],
        },
        schema=GENERATOR_SCHEMA,
    )
    paths = [run_dir / TIMESERIES, run_dir / PLAYERS, run_dir / GENERATOR]
    for table, path in zip((timeseries, players, generator), paths, strict=True):
        _write_table(table, path)
    encoded = {name: hdr.encode(h) for name, h in sorted(recorder.totals.items())}
    histograms = run_dir / HISTOGRAMS
    partial = histograms.with_name(HISTOGRAMS + ".partial")
    partial.write_text(json.dumps(encoded, indent=1) + "\n", encoding="utf-8")
    partial.replace(histograms)
    return [*paths, histograms]
