"""Benchmark 4 — reports: build time and HTML size for synthetic 1-hour and 2-hour runs.

Full scale: the spike's 8,000 → 120,000 players at scale 1.0, six endpoints aggregated per
second, a provider fault every 15 minutes with its latency and error disturbance, and
1,000,000 acknowledged wallet transactions per hour (the audit reconciles each one with
the ledger — the only part of a run directory that grows with the number of players).
Each run directory is written once by :func:`spikekit.analysis.synthetic.write_synthetic_run`
(not timed), with its per-second latency histograms (``latency_histograms.parquet``, drawn
by :mod:`bench.reports_histograms` and written as the load master writes them: their size
and the master's writing time are measured); :func:`spikekit.reports.build.build_report`
(analysis, audit, report.html, summary.json, junit.xml — what ``spikekit report RUN_DIR``
does) is then timed ``config.repeats`` times in this process, after one untimed warm-up
build that pays the imports (matplotlib, pandas), interleaved with builds of the same run
without the histograms (a hard-linked copy: what an older run directory costs).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Config, Row, Section, format_ratio, median, paired_ratio, spread
from bench.reports_histograms import Written, write_histograms
from spikekit.analysis.synthetic import (
    Disturbance,
    SyntheticFault,
    SyntheticRun,
    write_synthetic_run,
)
from spikekit.reports.build import build_report
from spikekit.rundir.layout import LATENCY_HISTOGRAMS

TARGET_S, TARGET_MB = 60.0, 10.0
TRANSACTIONS_PER_HOUR = 1_000_000
FAULT_EVERY_S = 900


def full_scale(duration_s: int, transactions_per_hour: int = TRANSACTIONS_PER_HOUR) -> SyntheticRun:
    starts = range(600, duration_s - 300, FAULT_EVERY_S)
    faults = tuple(
        SyntheticFault(f"provider-{i}", float(s), float(s + 120), target=f"provider-{'ab'[i % 2]}")
        for i, s in enumerate(starts)
    )
    disturbances = tuple(
        Disturbance(int(f.start_s), int(f.start_s) + 150, latency_factor=6.0, error_rate=0.05)
        for f in faults
    )
    return SyntheticRun(
        duration_s=duration_s,
        baseline_players=8_000,
        peak_players=120_000,
        scale=1.0,
        faults=faults,
        disturbances=disturbances,
        transactions=transactions_per_hour * duration_s // 3600,
    )


@dataclass(frozen=True)
class Built:
    seconds: float
    html_bytes: int


def build_once(run_dir: Path) -> Built:
    began = time.perf_counter()
    built = build_report(run_dir)
    return Built(time.perf_counter() - began, built.html.stat().st_size)


WITHOUT = " without histograms"


def without_histograms(folder: Path) -> Path:
    """A hard-linked copy of the run directory without ``latency_histograms.parquet``."""
    copy = folder.with_name(folder.name + "-old")
    shutil.copytree(folder, copy, copy_function=os.link)
    (copy / LATENCY_HISTOGRAMS).unlink()
    return copy


def run(config: Config) -> Section:
    work_dir = Path(tempfile.mkdtemp(prefix="bench-reports-", dir=config.work_dir))
    per_hour = TRANSACTIONS_PER_HOUR // 4 if config.quick else TRANSACTIONS_PER_HOUR
    warm = write_synthetic_run(work_dir / "warm-up", full_scale(600, per_hour))
    write_histograms(warm)
    build_report(warm)
    results: dict[str, list[Built]] = {}
    specs = {"1 h": full_scale(3600, per_hour), "2 h": full_scale(7200, per_hour)}
    folders, written = {}, {}
    for name, spec in specs.items():
        folder = write_synthetic_run(work_dir / f"run-{name.replace(' ', '')}", spec)
        written[name] = write_histograms(folder)
        folders[name] = folder
        folders[name + WITHOUT] = without_histograms(folder)
        print(f"  reports {name} histograms: {written[name]}", flush=True)
    for rep in range(config.repeats):
        for name, folder in folders.items():  # interleaved: noise hits all alike
            results.setdefault(name, []).append(build_once(folder))
            print(f"  reports {name} run {rep + 1}: {results[name][-1].seconds:.1f} s", flush=True)
    shutil.rmtree(work_dir, ignore_errors=True)  # 2 h of histograms and transactions
    return _section(config, specs, results, written)


def _histogram_rows(
    name: str,
    results: dict[str, list[Built]],
    written: Written,
    by_rep: dict[str, dict[int, float]],
) -> list[Row]:
    """The cost of the per-second histograms: file size, the master's writing, build time."""
    plain = median([b.seconds for b in results[name + WITHOUT]])
    extra = paired_ratio(by_rep[name], by_rep[name + WITHOUT])
    return [
        Row(
            f"{name} run: latency_histograms.parquet",
            f"{written.size_bytes / 1e6:.1f} MB",
            f"{written.size_bytes / max(written.pairs, 1):.2f} B per non-zero bucket",
            "-",
            f"{written.rows:,} rows (second × endpoint), {written.pairs:,} non-zero buckets",
        ),
        Row(
            f"{name} run: the master writing them",
            f"{written.parts_s + written.merge_s:.1f} s",
            f"merge at the end {written.merge_s:.1f} s",
            "-",
            f"a part every 10 s: {written.parts_s:.1f} s over the run",
        ),
        Row(
            f"{name} run: build time without them",
            f"{plain:.1f} s",
            f"{format_ratio(extra, 'with them / without')}",
            "-",
            f"{spread([b.seconds for b in results[name + WITHOUT]], 's')}; an older run "
            "directory: windowed percentiles approximated",
        ),
    ]


def _section(
    config: Config,
    specs: dict[str, SyntheticRun],
    results: dict[str, list[Built]],
    written: dict[str, Written],
) -> Section:
    times = {name: median([b.seconds for b in built]) for name, built in results.items()}
    sizes = {name: built[-1].html_bytes / 1e6 for name, built in results.items()}
    by_rep = {name: dict(enumerate(b.seconds for b in built)) for name, built in results.items()}
    rows = []
    for name, built in results.items():
        if name not in specs:
            continue
        spec = specs[name]
        slow = times[name] >= TARGET_S
        to_hour = paired_ratio(by_rep[name], by_rep["1 h"])
        ratios = f"{format_ratio(to_hour, '1 h build')}, " if name != "1 h" else ""
        rows.append(
            Row(
                f"{name} run: build time",
                f"{times[name]:.1f} s",
                ratios + f"{times[name] / TARGET_S:.2f}x budget",
                f"< {TARGET_S:g} s (2 h)",
                ("MISSED" if slow else "met")
                + f"; {spread([b.seconds for b in built], 's')}; {spec.duration_s:,} s, "
                f"{spec.transactions:,} acked transactions, {len(spec.faults)} faults, "
                "exact windowed percentiles from the per-second histograms",
            )
        )
        rows.append(
            Row(
                f"{name} run: report.html size",
                f"{sizes[name]:.2f} MB",
                f"{sizes[name] / TARGET_MB:.2f}x budget",
                f"< {TARGET_MB:g} MB",
                "MISSED" if sizes[name] >= TARGET_MB else "met",
            )
        )
        rows += _histogram_rows(name, results, written[name], by_rep)
    notes = [
        f"Medians of {config.repeats} builds each, interleaved; the 2 h / 1 h ratio is the "
        "median of the ratios within each repetition. About 2 means the build is linear in "
        "the run's length.",
        "The histograms: every endpoint's requests of every second drawn log-normal with "
        "that second's p50 and p95 (bench/reports_histograms.py), written as the load master "
        'writes them (a zstd part file every 10 s, merged at the end, no "*" rows). The '
        'build time and its budget are with them; "without them" is the same run directory '
        "as an older spikekit wrote it.",
    ]
    extra = (specs["2 h"].transactions - specs["1 h"].transactions) / 1e6
    plain = {name: times[name + WITHOUT] for name in specs}  # the histograms' cost apart
    if extra > 0 and plain["2 h"] > plain["1 h"]:
        per_million = (plain["2 h"] - plain["1 h"]) / extra  # mostly the wallet audit
        fixed = times["1 h"] - per_million * specs["1 h"].transactions / 1e6
        ceiling = (TARGET_S - fixed) / per_million
        notes.append(
            f"Each extra million acknowledged transactions costs about {per_million:.1f} s "
            f"of build time; at that rate a run stays under the {TARGET_S:g} s budget up to "
            f"about {ceiling:.0f} million acknowledged transactions."
        )
    return Section(
        key="reports",
        title="4. Reports: build time and HTML size of synthetic full-scale runs",
        command="",
        rows=rows,
        notes=notes,
    )
