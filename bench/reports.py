"""Benchmark 4 — reports: build time and HTML size for synthetic 1-hour and 2-hour runs.

Full scale: the spike's 8,000 → 120,000 players at scale 1.0, six endpoints aggregated per
second, a provider fault every 15 minutes with its latency and error disturbance, and
1,000,000 acknowledged wallet transactions per hour (the audit reconciles each one with
the ledger — the only part of a run directory that grows with the number of players).
Each run directory is written once by :func:`spikekit.analysis.synthetic.write_synthetic_run`
(not timed); :func:`spikekit.reports.build.build_report` (analysis, audit, report.html,
summary.json, junit.xml — what ``spikekit report RUN_DIR`` does) is then timed
``config.repeats`` times in this process, after one untimed warm-up build that pays the
imports (matplotlib, pandas).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Config, Row, Section, format_ratio, median, paired_ratio, spread
from spikekit.analysis.synthetic import (
    Disturbance,
    SyntheticFault,
    SyntheticRun,
    write_synthetic_run,
)
from spikekit.reports.build import build_report

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


def run(config: Config) -> Section:
    work_dir = Path(tempfile.mkdtemp(prefix="bench-reports-", dir=config.work_dir))
    per_hour = TRANSACTIONS_PER_HOUR // 4 if config.quick else TRANSACTIONS_PER_HOUR
    warm = write_synthetic_run(work_dir / "warm-up", full_scale(600, per_hour))
    build_report(warm)
    results: dict[str, list[Built]] = {}
    specs = {"1 h": full_scale(3600, per_hour), "2 h": full_scale(7200, per_hour)}
    folders = {
        name: write_synthetic_run(work_dir / f"run-{name.replace(' ', '')}", spec)
        for name, spec in specs.items()
    }
    for rep in range(config.repeats):
        for name, folder in folders.items():  # interleaved: noise hits both alike
            results.setdefault(name, []).append(build_once(folder))
            print(f"  reports {name} run {rep + 1}: {results[name][-1].seconds:.1f} s", flush=True)
    return _section(config, specs, results)


def _section(
    config: Config, specs: dict[str, SyntheticRun], results: dict[str, list[Built]]
) -> Section:
    times = {name: median([b.seconds for b in built]) for name, built in results.items()}
    sizes = {name: built[-1].html_bytes / 1e6 for name, built in results.items()}
    by_rep = {name: dict(enumerate(b.seconds for b in built)) for name, built in results.items()}
    rows = []
    for name, built in results.items():
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
                f"{spec.transactions:,} acked transactions, {len(spec.faults)} faults",
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
    notes = [
        f"Medians of {config.repeats} builds each, interleaved; the 2 h / 1 h ratio is the "
        "median of the ratios within each repetition. About 2 means the build is linear in "
        "the run's length.",
    ]
    extra = (specs["2 h"].transactions - specs["1 h"].transactions) / 1e6
    if extra > 0 and times["2 h"] > times["1 h"]:
        per_million = (times["2 h"] - times["1 h"]) / extra  # mostly the wallet audit
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
