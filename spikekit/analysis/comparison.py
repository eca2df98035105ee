"""Baseline vs spike phases, and bottleneck hints from the platform metrics.

Phases come from ``players.parquet``: with ``base`` the target at the start and
``peak`` its maximum, the *baseline* is every second before the target first
exceeds ``base + 10 %`` of the rise, the *spike* every second where it is at or
above ``base + 90 %`` of the rise. Seconds inside a fault's impact window are
left out of both, so the comparison measures load, not chaos.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.rundir import RunData

STREAM_RISE_MIN = 1000.0  # messages: a stream that grew less than this is not a hint
POOL_SATURATED = 0.95
POOL_SATURATED_MIN_S = 5
GENERATOR_OVERLOADED_CPU = 90.0
GENERATOR_OVERLOADED_MIN_S = 10


@dataclass(frozen=True)
class PhaseStats:
    seconds: int
    target_players: float
    actual_players: float
    rps: float
    p95_ms: float | None  # request-weighted mean of the per-second "*" p95
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


class HintKind(StrEnum):
    STREAM_DEPTH_RISING = "stream depth rising"
    DB_POOL_SATURATED = "DB pool saturated"
    BREAKER_OPEN = "circuit breaker open"
    GENERATOR_OVERLOADED = "load generator overloaded"


@dataclass(frozen=True)
class BottleneckHint:
    kind: HintKind
    subject: str  # the stream, pool, provider or process
    first_t: int
    seconds: int
    detail: str

    @property
    def makes_inconclusive(self) -> bool:
        return self.kind is HintKind.GENERATOR_OVERLOADED


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
    return PhaseStats(
        seconds=seconds,
        target_players=float(s.per_second(run.players, "target_players", n)[mask].mean()),
        actual_players=float(s.per_second(run.players, "actual_players", n)[mask].mean()),
        rps=total / seconds,
        p95_ms=weighted("p95_ms"),
        p99_ms=weighted("p99_ms"),
        error_rate=float(failures.sum()) / total if total > 0 else None,
    )


def compare_phases(run: RunData, excused: s.Bools) -> PhaseComparison:
    baseline, spike = phase_masks(run, excused)
    return PhaseComparison(baseline=phase_stats(run, baseline), spike=phase_stats(run, spike))


def _runs(mask: s.Bools) -> tuple[int, int, int]:
    """(first second, number of seconds, longest consecutive run) of a mask."""
    hits = np.flatnonzero(mask)
    if len(hits) == 0:
        return -1, 0, 0
    breaks = np.flatnonzero(np.diff(hits) != 1)
    edges = np.concatenate(([0], breaks + 1, [len(hits)]))
    return int(hits[0]), len(hits), int(np.diff(edges).max())


def bottleneck_hints(run: RunData) -> list[BottleneckHint]:
    metrics, n = run.platform_metrics, run.duration_s
    hints: list[BottleneckHint] = []
    for labels, depth in s.metric_by_label(metrics, s.STREAM_DEPTH, n).items():
        seen = np.flatnonzero(~np.isnan(depth))
        if len(seen) < 2:
            continue
        start, end = depth[seen[0]], depth[seen[-1]]
        peak_at = int(seen[np.nanargmax(depth[seen])])
        if end - start >= STREAM_RISE_MIN and end >= 0.5 * depth[peak_at]:
            hints.append(
                BottleneckHint(
                    HintKind.STREAM_DEPTH_RISING,
                    labels,
                    int(seen[0]),
                    len(seen),
                    f"depth {start:.0f} → {end:.0f} messages, not drained",
                )
            )
    in_use = s.metric_by_label(metrics, s.DB_POOL_IN_USE, n)
    sizes = s.metric_by_label(metrics, s.DB_POOL_SIZE, n)
    for labels, used in in_use.items():
        size = sizes.get(labels)
        if size is None:
            continue
        ratio = np.divide(used, size, out=np.zeros(n), where=np.nan_to_num(size) > 0)
        first, seconds, longest = _runs(np.nan_to_num(ratio) >= POOL_SATURATED)
        if longest >= POOL_SATURATED_MIN_S:
            hints.append(
                BottleneckHint(
                    HintKind.DB_POOL_SATURATED,
                    labels,
                    first,
                    seconds,
                    f"≥{POOL_SATURATED:.0%} of the pool in use for {seconds} s",
                )
            )
    for labels, state in s.metric_by_label(metrics, s.BREAKER_STATE, n).items():
        first, seconds, _ = _runs(np.nan_to_num(state) >= 2)
        if seconds:
            hints.append(
                BottleneckHint(
                    HintKind.BREAKER_OPEN, labels, first, seconds, f"breaker open for {seconds} s"
                )
            )
    cpu = s.metric_series(metrics, s.GENERATOR_CPU, n, "max")
    first, seconds, _ = _runs(np.nan_to_num(cpu) >= GENERATOR_OVERLOADED_CPU)
    if seconds >= GENERATOR_OVERLOADED_MIN_S:
        hints.append(
            BottleneckHint(
                HintKind.GENERATOR_OVERLOADED,
                "loadgen",
                first,
                seconds,
                f"generator CPU ≥{GENERATOR_OVERLOADED_CPU:.0f}% for {seconds} s: "
                "the measured latency may be the generator's, not the platform's",
            )
        )
    return hints
