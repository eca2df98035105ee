"""Bottleneck hints: which part of the platform shed or saturated, since when, how much.

Every hint comes from ``run.platform_metrics`` (docs/run-directory.md) and names the
service (and the replica when there are several), the first second and its phase, how
long the condition held and how much (what a hint is: :mod:`.hint_model`; the hints of
a service refusing work: :mod:`.shedding_hints`). One small function per kind:

- shedding: auth refusing logins as ``overloaded`` (503) or by its rate limit (429), the
  gateway's backpressure (503 from its in-flight bound), a studio refusing at the door
  for capacity or its rate limit (injected faults are chaos, not shedding);
- a service process at ≥ 90 % of a core (psutil, every stack process; for a service
  psutil does not watch, a platform of the user's own, its ``process_cpu_seconds_total``);
  PostgreSQL (its postmaster and backends together) and Redis have their own kinds;
- a service answering 5xx (the common HTTP metric names, :mod:`.common_series`), unless a
  shedding hint above already names that service: its 503s are that shedding;
- a DB pool saturated (≥ 95 % of it in use for ≥ 5 consecutive seconds);
- a stream whose depth keeps rising, a circuit breaker open, the load generator
  overloaded (that one makes the run inconclusive);
- :func:`explain_failure`: a FAILED verdict with no hint above gets one hint saying what
  was looked at and what was missing, so that a FAILED run never shows an empty list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.common_series import HTTP_5XX, HTTP_FAMILIES, SCRAPED_CPU, scraped_cpu
from spikekit.analysis.hint_model import BottleneckHint, HintKind, phases, when, who
from spikekit.analysis.rundir import RunData
from spikekit.analysis.shedding_hints import SHED_RULES, server_error_hints, shedding_hints
from spikekit.analysis.sources import Source, by_source, episode, labels_of
from spikekit.rundir.layout import PLATFORM_METRICS

__all__ = [
    "BottleneckHint",
    "HintKind",
    "bottleneck_hints",
    "explain_failure",
    "phases",
    "process_cpu",
]

STREAM_RISE_MIN = 1000.0  # messages: a stream that grew less than this is not a hint
POOL_SATURATED = 0.95
POOL_SATURATED_MIN_S = 5
GENERATOR_OVERLOADED_CPU = 90.0
GENERATOR_OVERLOADED_MIN_S = 10
PROCESS_CPU = 90.0  # % of one core
PROCESS_CPU_MIN_S = 3  # consecutive seconds

PROCESS_CPU_METRIC = "process_cpu_percent"
PROCESS_TREE_CPU_METRIC = "process_tree_cpu_percent"  # the process and its children


# -- CPU ------------------------------------------------------------------------------------

_BACKING = {"postgres": HintKind.POSTGRES_SATURATED, "redis": HintKind.REDIS_SATURATED}


def process_cpu(metrics: Any, n: int) -> dict[Source, s.Floats]:
    """CPU % of one core per (service, process); a process tree where it was recorded; the
    scrape's ``process_cpu_seconds_total`` for a service that psutil did not watch."""
    cpu = by_source(metrics, PROCESS_CPU_METRIC, n)
    cpu.update(by_source(metrics, PROCESS_TREE_CPU_METRIC, n))
    cpu.update(scraped_cpu(metrics, n, {service for service, _ in cpu}))
    return cpu


def cpu_hints(run: RunData, phase: Sequence[str]) -> Iterator[BottleneckHint]:
    for (service, text), cpu in sorted(process_cpu(run.platform_metrics, run.duration_s).items()):
        e = episode(np.nan_to_num(cpu) >= PROCESS_CPU)
        if e is None or e.longest < PROCESS_CPU_MIN_S:
            continue
        labels = labels_of(text)
        process = labels.get("process") or labels.get("instance") or service
        hot = np.nan_to_num(cpu)[np.nan_to_num(cpu) >= PROCESS_CPU]
        kind = _BACKING.get(service, HintKind.PROCESS_CPU)
        whose = "its processes" if kind is HintKind.POSTGRES_SATURATED else "the process"
        yield BottleneckHint(
            kind,
            process,
            e.first_t,
            e.seconds,
            f"{whose} at ≥{PROCESS_CPU:.0f}% of a core {when(e, phase)} "
            f"(longest {e.longest} s); peak {hot.max():.0f}%, mean {hot.mean():.0f}% "
            "while saturated",
            service=service,
            replica=process if process != service else None,
            phase=phase[e.first_t],
            last_t=e.last_t,
            peak=float(hot.max()),
        )


# -- pools, streams, breakers, the generator --------------------------------------------------


def pool_hints(run: RunData, phase: Sequence[str]) -> Iterator[BottleneckHint]:
    metrics, n = run.platform_metrics, run.duration_s
    sizes = by_source(metrics, s.DB_POOL_SIZE, n)
    for (service, labels), used in sorted(by_source(metrics, s.DB_POOL_IN_USE, n).items()):
        size = sizes.get((service, labels))
        if size is None:
            continue
        ratio = np.divide(used, size, out=np.zeros(n), where=np.nan_to_num(size) > 0)
        e = episode(np.nan_to_num(ratio) >= POOL_SATURATED)
        if e is None or e.longest < POOL_SATURATED_MIN_S:
            continue
        full = int(np.sum((np.nan_to_num(size) > 0) & (np.nan_to_num(used) >= size)))
        replica = labels_of(labels).get("instance")
        yield BottleneckHint(
            HintKind.DB_POOL_SATURATED,
            labels,
            e.first_t,
            e.seconds,
            f"{who(service, replica)}: ≥{POOL_SATURATED:.0%} of the pool in use {when(e, phase)} "
            f"(longest {e.longest} s); peak {np.nanmax(used):.0f} of {np.nanmax(size):.0f} "
            f"connections, all of them taken for {full} s",
            service=service,
            replica=replica,
            phase=phase[e.first_t],
            last_t=e.last_t,
            peak=float(np.nanmax(used)),
            share=float(np.nanmax(ratio)),
        )


def stream_hints(run: RunData, phase: Sequence[str]) -> Iterator[BottleneckHint]:
    n = run.duration_s
    for (service, labels), depth in sorted(
        by_source(run.platform_metrics, s.STREAM_DEPTH, n).items()
    ):
        seen = np.flatnonzero(~np.isnan(depth))
        if len(seen) < 2:
            continue
        start, end = depth[seen[0]], depth[seen[-1]]
        peak_at = int(seen[np.nanargmax(depth[seen])])
        if end - start >= STREAM_RISE_MIN and end >= 0.5 * depth[peak_at]:
            yield BottleneckHint(
                HintKind.STREAM_DEPTH_RISING,
                labels,
                int(seen[0]),
                len(seen),
                f"depth {start:,.0f} → {end:,.0f} messages from t={seen[0]} s "
                f"({phase[int(seen[0])]}), not drained "
                f"(peak {depth[peak_at]:,.0f} at t={peak_at} s)",
                service=service,
                phase=phase[int(seen[0])],
                last_t=int(seen[-1]),
                peak=float(depth[peak_at]),
            )


def breaker_hints(run: RunData, phase: Sequence[str]) -> Iterator[BottleneckHint]:
    n = run.duration_s
    for labels, state in sorted(
        s.metric_by_label(run.platform_metrics, s.BREAKER_STATE, n).items()
    ):
        e = episode(np.nan_to_num(state) >= 2)
        if e is not None:
            yield BottleneckHint(
                HintKind.BREAKER_OPEN,
                labels,
                e.first_t,
                e.seconds,
                f"breaker open {when(e, phase)}",
                service="router",
                phase=phase[e.first_t],
                last_t=e.last_t,
            )


def generator_hints(run: RunData, phase: Sequence[str]) -> Iterator[BottleneckHint]:
    cpu = s.metric_series(run.platform_metrics, s.GENERATOR_CPU, run.duration_s, "max")
    e = episode(np.nan_to_num(cpu) >= GENERATOR_OVERLOADED_CPU)
    if e is not None and e.seconds >= GENERATOR_OVERLOADED_MIN_S:
        yield BottleneckHint(
            HintKind.GENERATOR_OVERLOADED,
            "loadgen",
            e.first_t,
            e.seconds,
            f"generator CPU ≥{GENERATOR_OVERLOADED_CPU:.0f}% {when(e, phase)}: "
            "the measured latency may be the generator's, not the platform's",
            service="loadgen",
            phase=phase[e.first_t],
            last_t=e.last_t,
            peak=float(np.nanmax(cpu)),
        )


def bottleneck_hints(run: RunData) -> list[BottleneckHint]:
    """Every hint the platform metrics support, shedding first, in rule order."""
    phase = phases(run)
    metrics = run.platform_metrics
    if len(metrics):  # every rule below scans only the few metrics hints read
        run = replace(run, platform_metrics=metrics[metrics["metric"].isin(READ)])
    hints: list[BottleneckHint] = []
    for rule in SHED_RULES:
        hints += shedding_hints(run, rule, phase)
    hints += server_error_hints(run, phase, {(h.service or "", h.replica) for h in hints})
    for kind in (cpu_hints, pool_hints, stream_hints, breaker_hints, generator_hints):
        hints += kind(run, phase)
    return hints


#: every metric the hints read
READ = frozenset(
    {rule.metric for rule in SHED_RULES}
    | {rule.answers for rule in SHED_RULES}
    | {PROCESS_CPU_METRIC, PROCESS_TREE_CPU_METRIC, SCRAPED_CPU, s.DB_POOL_IN_USE, s.DB_POOL_SIZE}
    | {HTTP_5XX, *HTTP_FAMILIES}
    | {s.STREAM_DEPTH, s.BREAKER_STATE, s.GENERATOR_CPU}
)


# -- nothing fired ----------------------------------------------------------------------------

#: what the hints look at: (words, the metrics any of which is that signal)
LOOKED_AT: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (words, frozenset(metrics))
    for words, *metrics in (
        ("auth logins by outcome", "auth_logins_per_s"),
        ("gateway backpressure", "gateway_backpressure_rejected_per_s"),
        ("studio refusals", "provider_rejected_per_s"),
        ("process CPU", PROCESS_CPU_METRIC, SCRAPED_CPU),
        ("HTTP 5xx", HTTP_5XX),
        ("DB pools", s.DB_POOL_IN_USE),
        ("stream depths", s.STREAM_DEPTH),
        ("circuit breakers", s.BREAKER_STATE),
        ("load generator CPU", s.GENERATOR_CPU),
    )
)


def explain_failure(
    run: RunData, hints: list[BottleneckHint], failed: bool
) -> list[BottleneckHint]:
    """``hints``, plus an :attr:`HintKind.UNEXPLAINED` hint when the run ``failed`` and no
    hint fired: a FAILED run never has an empty list of hints."""
    if not failed or hints:
        return hints
    metrics = run.platform_metrics
    present = set(metrics["metric"].unique()) if len(metrics) else set()
    seen = [words for words, metrics in LOOKED_AT if metrics & present]
    missing = [words for words, metrics in LOOKED_AT if not metrics & present]
    if not present:
        why = f"no platform telemetry was recorded ({PLATFORM_METRICS} is empty or absent)"
    else:
        why = f"none crossed its threshold in {', '.join(seen)}"
    detail = f"the run FAILED and {why}"
    if missing and present:
        detail += f"; no series recorded (not measured, or never counted): {', '.join(missing)}"
    return [
        BottleneckHint(
            HintKind.UNEXPLAINED,
            "platform",
            0,
            run.duration_s,
            detail,
            last_t=max(run.duration_s - 1, 0),
        )
    ]
