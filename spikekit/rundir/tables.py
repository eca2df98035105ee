"""The per-second tables of the load: ``timeseries.parquet``, ``players.parquet``,
``generator.parquet``, and the whole-run ``histograms.json``.

The load recorder (the Locust master) builds rows (:class:`TimeseriesRow`,
:class:`PlayersRow`, :class:`GeneratorRow`) and :func:`write_load_tables` puts them on
disk, each file atomically. Recovery, when the master died or could not write them
(:func:`recover_from_live`): the files that are missing, rebuilt from what the ``second``
lines of ``load/live.jsonl`` hold (:func:`rows_from_seconds`): per endpoint only requests,
failures and p95 (the rest NaN), the generator's health as one ``node=all`` series.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spikekit.rundir.files import create_only, replace_atomically
from spikekit.rundir.layout import GENERATOR, HISTOGRAMS, LIVE, PLAYERS, TIMESERIES
from spikekit.rundir.live import SecondSummary, read_live_file

ALL = "*"  # the endpoint of the row of all requests together
GENERATOR_SERVICE = "loadgen"
SALVAGED_NODE = "all"  # the generator series rebuilt from live.jsonl

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
#: ``platform_metrics.parquet`` and ``generator.parquet``: long format.
METRICS_SCHEMA = pa.schema(
    [
        ("t", pa.int64()),
        ("service", pa.string()),
        ("metric", pa.string()),
        ("labels", pa.string()),
        ("value", pa.float64()),
    ]
)
GENERATOR_SCHEMA = METRICS_SCHEMA


@dataclass
class TimeseriesRow:
    t: int
    endpoint: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class PlayersRow:
    t: int
    target_players: int
    actual_players: int


@dataclass(frozen=True)
class GeneratorRow:
    """Long format, like ``platform_metrics.parquet`` (service ``loadgen``)."""

    t: int
    metric: str
    node: str
    value: float


def timeseries_table(rows: Sequence[TimeseriesRow]) -> pa.Table:
    columns = {name: [getattr(r, name) for r in rows] for name in TIMESERIES_SCHEMA.names}
    return pa.table(columns, schema=TIMESERIES_SCHEMA)


def players_table(rows: Sequence[PlayersRow]) -> pa.Table:
    columns = {name: [getattr(r, name) for r in rows] for name in PLAYERS_SCHEMA.names}
    return pa.table(columns, schema=PLAYERS_SCHEMA)


def generator_table(rows: Sequence[GeneratorRow]) -> pa.Table:
    return pa.table(
        {
            "t": [g.t for g in rows],
            "service": [GENERATOR_SERVICE] * len(rows),
            "metric": [g.metric for g in rows],
            "labels": [f"node={g.node}" for g in rows],
            "value": [g.value for g in rows],
        },
        schema=GENERATOR_SCHEMA,
    )


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path)


def write_load_tables(
    run_dir: Path,
    timeseries: Sequence[TimeseriesRow],
    players: Sequence[PlayersRow],
    generator: Sequence[GeneratorRow],
    histograms: dict[str, str],
) -> list[Path]:
    """The load recorder's files, each written atomically; ``histograms``: endpoint →
    encoded HDR histogram. Returns the paths written."""
    run_dir.mkdir(parents=True, exist_ok=True)
    health = sorted(generator, key=lambda g: (g.t, g.metric, g.node))
    tables = {
        TIMESERIES: timeseries_table(timeseries),
        PLAYERS: players_table(players),
        GENERATOR: generator_table(health),
    }
    paths = []
    for name, table in tables.items():
        replace_atomically(run_dir / name, functools.partial(write_parquet, table))
        paths.append(run_dir / name)
    text = json.dumps(dict(sorted(histograms.items())), indent=1) + "\n"
    replace_atomically(run_dir / HISTOGRAMS, lambda p: p.write_text(text, encoding="utf-8"))
    return [*paths, run_dir / HISTOGRAMS]


@dataclass(frozen=True)
class SecondRows:
    timeseries: list[TimeseriesRow]
    players: list[PlayersRow]
    generator: list[GeneratorRow]


def rows_from_seconds(seconds: Sequence[SecondSummary]) -> SecondRows:
    """What the ``second`` lines of ``live.jsonl`` give back: per second, each endpoint that
    had requests (p50, p99 and max NaN: the line has only its p95), then ``"*"``."""
    nan = math.nan
    series: list[TimeseriesRow] = []
    generator: list[GeneratorRow] = []
    for s in seconds:
        for name in sorted(s.endpoints):
            requests, failures, p95 = s.endpoints[name]
            series.append(TimeseriesRow(s.t, name, requests, failures, nan, p95, nan, nan))
        series.append(
            TimeseriesRow(s.t, ALL, s.requests, s.failures, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms)
        )
        generator.append(
            GeneratorRow(s.t, "generator_cpu_percent", SALVAGED_NODE, s.generator_cpu_max)
        )
        generator.append(
            GeneratorRow(s.t, "generator_errors", SALVAGED_NODE, float(s.generator_errors))
        )
    players = [PlayersRow(s.t, s.target_players, s.actual_players) for s in seconds]
    return SecondRows(series, players, generator)


def recover_from_live(run_dir: Path, seconds: Sequence[SecondSummary] | None = None) -> list[str]:
    """The per-second files that are missing, from ``load/live.jsonl`` (or ``seconds``
    already read from it), created only, never replacing one; the names created."""
    if all((run_dir / n).is_file() for n in (TIMESERIES, PLAYERS)):
        return []
    if seconds is None:
        live = run_dir / LIVE
        seconds = read_live_file(live).seconds if live.is_file() else ()
    if not seconds:
        return []
    rows = rows_from_seconds(seconds)
    built = {
        TIMESERIES: timeseries_table(rows.timeseries),
        PLAYERS: players_table(rows.players),
        GENERATOR: generator_table(rows.generator),
    }
    return [
        name
        for name, table in built.items()
        if create_only(run_dir / name, functools.partial(write_parquet, table))
    ]


def read_players(run_dir: Path) -> list[PlayersRow] | None:
    """``players.parquet`` as rows; None when it is missing."""
    path = run_dir / PLAYERS
    if not path.is_file():
        return None
    return [
        PlayersRow(int(p["t"]), int(p["target_players"]), int(p["actual_players"]))
        for p in pq.read_table(path).to_pylist()
    ]


def read_timeseries(run_dir: Path, endpoint: str | None = None) -> list[TimeseriesRow] | None:
    """``timeseries.parquet`` as rows (of ``endpoint`` only, if given); None when missing."""
    path = run_dir / TIMESERIES
    if not path.is_file():
        return None
    names = TIMESERIES_SCHEMA.names
    return [
        TimeseriesRow(*(r[name] for name in names))
        for r in pq.read_table(path, columns=names).to_pylist()
        if endpoint is None or r["endpoint"] == endpoint
    ]
