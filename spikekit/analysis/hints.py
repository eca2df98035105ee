"""Bottleneck hints: which part of the platform shed or saturated, since when, how much.

Every hint comes from ``run.platform_metrics`` (docs/run-directory.md) and names the
service (and the replica when there are several), the first second and its phase, how
long the condition held and how much. One small function per kind:

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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.common_series import (
    HTTP_5XX,
    HTTP_FAMILIES,
    SCRAPED_CPU,
    scraped_cpu,
    server_errors,
)
from spikekit.analysis.comparison import phase_masks
from spikekit.analysis.rundir import RunData
from spikekit.analysis.sources import Episode, Source, by_source, episode, labels_of, per_instance
from spikekit.rundir.layout import PLATFORM_METRICS

STREAM_RISE_MIN = 1000.0  # messages: a stream that grew less than this is not a hint
POOL_SATURATED = 0.95
POOL_SATURATED_MIN_S = 5
GENERATOR_OVERLOADED_CPU = 90.0
GENERATOR_OVERLOADED_MIN_S = 10
PROCESS_CPU = 90.0  # % of one core
PROCESS_CPU_MIN_S = 3  # consecutive seconds
SHED_MIN_PER_S = 1.0  # refusals per second for a second to count as shedding
SHED_MIN_S = 3  # seconds of shedding
SERVER_ERRORS_MIN_SHARE = 0.01  # of a service's answers in a second, when they are known

PROCESS_CPU_METRIC = "process_cpu_percent"
PROCESS_TREE_CPU_METRIC = "process_tree_cpu_percent"  # the process and its children


class HintKind(StrEnum):
    AUTH_OVERLOADED = "auth overloaded"
    AUTH_RATE_LIMITING = "auth rate limiting"
    GATEWAY_BACKPRESSURE = "gateway backpressure"
    SERVER_ERRORS = "service answering 5xx"
    STUDIO_SHEDDING = "studio shedding"
    PROCESS_CPU = "process CPU saturated"
    POSTGRES_SATURATED = "PostgreSQL saturated"
    REDIS_SATURATED = "Redis saturated"
    DB_POOL_SATURATED = "DB pool saturated"
    STREAM_DEPTH_RISING = "stream depth rising"
    BREAKER_OPEN = "circuit breaker open"
    GENERATOR_OVERLOADED = "load generator overloaded"
    UNEXPLAINED = "no platform signal explained the failure"


@dataclass(frozen=True)
class BottleneckHint:
    """One bottleneck: ``subject`` is what is hurt (a service, pool, stream, provider or
    process), ``first_t`` .. ``last_t`` the seconds it showed, ``seconds`` how many of them
    it held, ``detail`` the numbers in words; ``peak``/``total``/``share`` the same numbers
    for machines (per second, over the run, share of the service's answers)."""

    kind: HintKind
    subject: str
    first_t: int
    seconds: int
    detail: str
    service: str | None = None
    replica: str | None = None
    phase: str | None = None  # of the run at first_t: baseline, ramp, spike, ramp-down, steady
    last_t: int | None = None
    peak: float | None = None
    total: float | None = None
    share: float | None = None

    @property
    def makes_inconclusive(self) -> bool:
        return self.kind is HintKind.GENERATOR_OVERLOADED


def phases(run: RunData) -> list[str]:
    """The phase of every second: ``steady`` when the target never rises, else
    ``baseline`` / ``ramp`` / ``spike`` / ``ramp-down`` (the comparison's thresholds)."""
    n = run.duration_s
    baseline, spike = phase_masks(run, np.zeros(n, dtype=np.bool_))
    target = s.per_second(run.players, "target_players", n)
    if n and float(target.max()) <= float(target[0]):
        return ["steady"] * n
    peak_seen = np.flatnonzero(spike)
    first_peak = int(peak_seen[0]) if len(peak_seen) else n
    names = []
    for t in range(n):
        if baseline[t]:
            names.append("baseline")
        elif spike[t]:
            names.append("spike")
        else:
            names.append("ramp" if t < first_peak else "ramp-down")
    return names


def _who(service: str, replica: str | None) -> str:
    return service if replica is None else f"{service} ({replica})"


def _when(e: Episode, phase: Sequence[str]) -> str:
    return f"from t={e.first_t} s ({phase[e.first_t]}) to t={e.last_t} s, {e.seconds} s in all"


# -- shedding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShedRule:
    """Refusals a service counts: ``metric`` rows whose labels ``refused`` accepts, as a
    share of its answers (``answers`` rows whose labels ``answered`` accepts, plus the
    refusals themselves when ``refusals_uncounted``: they never reached its handlers)."""

    kind: HintKind
    service: Callable[[str], bool]
    metric: str
    refused: Callable[[dict[str, str]], bool]
    answers: str
    answered: Callable[[dict[str, str]], bool]
    what: str
    refusals_uncounted: bool = False


def _any(_: dict[str, str]) -> bool:
    return True


def _outcome(value: str) -> Callable[[dict[str, str]], bool]:
    return lambda labels: labels.get("outcome") == value


SHED_RULES = (
    ShedRule(
        HintKind.AUTH_OVERLOADED,
        lambda name: name == "auth",
        "auth_logins_per_s",
        _outcome("overloaded"),
        "auth_logins_per_s",
        _any,
        "logins refused as overloaded (503): password checks beyond its bound",
    ),
    ShedRule(
        HintKind.AUTH_RATE_LIMITING,
        lambda name: name == "auth",
        "auth_logins_per_s",
        _outcome("rate_limited"),
        "auth_logins_per_s",
        _any,
        "logins refused by the rate limit (429)",
    ),
    ShedRule(
        HintKind.GATEWAY_BACKPRESSURE,
        lambda name: name == "gateway",
        "gateway_backpressure_rejected_per_s",
        _any,
        "http_request_duration_per_s",
        _any,
        "requests refused by the in-flight bound (503 + Retry-After)",
        refusals_uncounted=True,
    ),
    ShedRule(
        HintKind.STUDIO_SHEDDING,
        lambda name: name.startswith("provider-"),
        "provider_rejected_per_s",
        lambda labels: labels.get("code") in ("OVER_CAPACITY", "RATE_LIMITED"),
        "http_request_duration_per_s",
        _any,
        "launches and rounds refused at the door (capacity or rate limit, 429/503)",
    ),
)


def shedding_hints(run: RunData, rule: ShedRule, phase: Sequence[str]) -> Iterator[BottleneckHint]:
    metrics, n = run.platform_metrics, run.duration_s
    answers = per_instance(metrics, rule.answers, n, rule.answered)
    for (service, replica), refused in per_instance(metrics, rule.metric, n, rule.refused).items():
        if not rule.service(service):
            continue
        e = episode(refused >= SHED_MIN_PER_S)
        if e is None or e.seconds < SHED_MIN_S:
            continue
        inside = slice(e.first_t, e.last_t + 1)
        total = float(refused[inside].sum())
        answered = float(answers.get((service, replica), np.zeros(n))[inside].sum())
        if rule.refusals_uncounted:
            answered += total
        share = total / answered if answered > 0 else None
        peak = float(refused.max())
        of = f", {share:.0%} of its answers" if share is not None else ""
        yield BottleneckHint(
            rule.kind,
            _who(service, replica),
            e.first_t,
            e.seconds,
            f"{rule.what} {_when(e, phase)}; "
            f"{total:,.0f} refused, peak {peak:,.0f}/s, "
            f"mean {total / (e.last_t - e.first_t + 1):,.0f}/s{of}",
            service=service,
            replica=replica,
            phase=phase[e.first_t],
            last_t=e.last_t,
            peak=peak,
            total=total,
            share=share,
        )


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
            f"{whose} at ≥{PROCESS_CPU:.0f}% of a core {_when(e, phase)} "
            f"(longest {e.longest} s); peak {hot.max():.0f}%, mean {hot.mean():.0f}% "
            "while saturated",
            service=service,
            replica=process if process != service else None,
            phase=phase[e.first_t],
            last_t=e.last_t,
            peak=float(hot.max()),
        )


# -- 5xx answers ----------------------------------------------------------------------------


def server_error_hints(
    run: RunData, phase: Sequence[str], explained: set[tuple[str, str | None]]
) -> Iterator[BottleneckHint]:
    """Services answering 5xx at ≥ 1/s (and ≥ 1 % of their answers, when known) for
    ≥ 3 s; not those in ``explained`` (service, replica), whose shedding they are."""
    n = run.duration_s
    for (service, replica), found in sorted(
        server_errors(run.platform_metrics, n).items(), key=lambda item: str(item[0])
    ):
        if (service, replica) in explained:
            continue
        errors, answers = found.errors, found.answers
        mask = errors >= SHED_MIN_PER_S
        if answers is not None:
            mask &= errors >= SERVER_ERRORS_MIN_SHARE * answers
        e = episode(mask)
        if e is None or e.seconds < SHED_MIN_S:
            continue
        inside = slice(e.first_t, e.last_t + 1)
        total, peak = float(errors[inside].sum()), float(errors.max())
        answered = float(answers[inside].sum()) if answers is not None else 0.0
        share = total / answered if answered > 0 else None
        of = f", {share:.0%} of its answers" if share is not None else ""
        route = found.top_route(inside)
        most = f", most on {route}" if route else ""
        yield BottleneckHint(
            HintKind.SERVER_ERRORS,
            _who(service, replica),
            e.first_t,
            e.seconds,
            f"5xx answers ({found.family}) {_when(e, phase)}; {total:,.0f} in all, "
            f"peak {peak:,.0f}/s{of}{most}",
            service=service,
            replica=replica,
            phase=phase[e.first_t],
            last_t=e.last_t,
            peak=peak,
            total=total,
            share=share,
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
            f"{_who(service, replica)}: ≥{POOL_SATURATED:.0%} of the pool in use {_when(e, phase)} "
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
                f"breaker open {_when(e, phase)}",
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
            f"generator CPU ≥{GENERATOR_OVERLOADED_CPU:.0f}% {_when(e, phase)}: "
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
