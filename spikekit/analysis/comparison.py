"""Baseline vs spike phases (the bottleneck hints are :mod:`spikekit.analysis.hints`'s).

Phases come from ``players.parquet``: with ``base`` the target at the start and
``peak`` its maximum, the *baseline* is every second before the target first
exceeds ``base + 10 %`` of the rise, the *spike* every second where it is at or
above ``base + 90 %`` of the rise. Seconds inside a fault's impact window are
left out of both, so the comparison measures load, not chaos.

A phase's p95 and p99 are those of all its requests, exact to HDR precision (its seconds'
histograms added up, :mod:`spikekit.analysis.percentiles`); without the histograms (an
older run directory) the request-weighted mean of the per-second ``"*"`` percentiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.percentiles import over_seconds
from spikekit.analysis.rundir import RunData


@dataclass(frozen=True)
class PhaseStats:
    seconds: int
    target_players: float
    actual_players: float
    rps: float
    p95_ms: float | None  # of the phase's requests (see the module docstring)
    p99_ms: float | None
    error_rate: float | None


@dataclass(frozen=True)
class PhaseComparison:
    baseline: PhaseStats | None
    spike: PhaseStats | None

    def delta(self, field: str) -> float | None:
        """spike - baseline of a :class:`PhaseStats` field, None when either is missing."""
        if self.baseline is None or self.spike is None:
            return None
        a, b = getattr(self.baseline, field), getattr(self.spike, field)
        return None if a is None or b is None else float(b - a)


def phase_masks(run: RunData, excused: s.Bools) -> tuple[s.Bools, s.Bools]:
    n = run.duration_s
    target = s.per_second(run.players, "target_players", n)
    baseline = np.zeros(n, dtype=np.bool_)
    spike = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return baseline, spike
    base, peak = float(target[0]), float(target.max())
    if peak <= base:
        baseline[:] = True
    else:
        rise = peak - base
        above = np.flatnonzero(target > base + 0.1 * rise)
        baseline[: int(above[0])] = True
        spike = target >= base + 0.9 * rise
    return baseline & ~excused, spike & ~excused


def phase_stats(run: RunData, mask: s.Bools) -> PhaseStats | None:
    seconds = int(mask.sum())
    if seconds == 0:
        return None
    n = run.duration_s
    rows = s.endpoint_rows(run.timeseries, "*")
    requests = s.per_second(rows, "requests", n)[mask]
    failures = s.per_second(rows, "failures", n)[mask]
    served = rows[rows["requests"] > 0]

    def weighted(column: str) -> float | None:
        w = s.per_second(served.assign(w=served[column] * served["requests"]), "w", n)[mask]
        total = float(requests.sum())
        return float(w.sum()) / total if total > 0 else None

    total = float(requests.sum())
    exact = over_seconds(run.timeseries, run.latency_histograms, "*", mask, ("p95_ms", "p99_ms"))
    p95, p99 = (
        (exact["p95_ms"], exact["p99_ms"]) if exact else (weighted("p95_ms"), weighted("p99_ms"))
    )
    return PhaseStats(
        seconds=seconds,
        target_players=float(s.per_second(run.players, "target_players", n)[mask].mean()),
        actual_players=float(s.per_second(run.players, "actual_players", n)[mask].mean()),
        rps=total / seconds,
        p95_ms=p95,
        p99_ms=p99,
        error_rate=float(failures.sum()) / total if total > 0 else None,
    )


def compare_phases(run: RunData, excused: s.Bools) -> PhaseComparison:
    baseline, spike = phase_masks(run, excused)
    return PhaseComparison(baseline=phase_stats(run, baseline), spike=phase_stats(run, spike))
