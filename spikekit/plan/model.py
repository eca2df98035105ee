"""A capacity plan: a scenario's peak and the costs measured on one machine → what each
part needs. Pure; the CLI reads the inputs and prints the plan.

Honest about its sources: every plan names the bench run its costs come from (machine,
date, commit), which figures were measured there, and which are extrapolated (the
request mix of a scenario whose personas differ from the bench's, a peak far beyond the
measured knee, a part whose cost the bench did not measure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from spikekit.plan.sizing import (
    Cost,
    DatabaseLoad,
    PartKind,
    PartPlan,
    Peak,
    Range,
    database_load,
    plan_part,
    total_cores,
)
from spikekit.plan.usl import UslFit


@dataclass(frozen=True)
class MeasuredCosts:
    """What a platform bench measured, per player request, on one machine."""

    source: str  # "bench --only platform, 2026-12-01, commit 45bbf2b, 2 cores (...)"
    cores: int
    knee_players: int
    knee_rps: float
    rps_per_player: float
    costs: tuple[Cost, ...]
    commits_per_request: Range | None = None
    redis_commands_per_request: Range | None = None
    pgbench_commits_per_core: float | None = None
    usl: UslFit | None = None
    usl_part: str | None = None  # the service whose replicas the law was fitted on
    #: the answer time a player waited per request where the costs were measured (None:
    #: the bundled platform bench's, from capacity.json)
    answer_s: float | None = None


@dataclass(frozen=True)
class Plan:
    scenario: str
    peak: Peak
    measured: MeasuredCosts
    parts: tuple[PartPlan, ...]
    database: DatabaseLoad
    redis_commands_per_s: Range | None
    production_cores: Range
    test_cores: Range
    extrapolated: tuple[str, ...] = field(default_factory=tuple)
    usl_replicas: int | None = None  # replicas of ``usl_part`` the peak needs by the law
    usl_limit: str | None = None  # where more replicas of it stop helping, in words


def kind_of(process: str) -> PartKind:
    """The bench's process groups (``cpu_ms_by_process`` keys) as plan parts."""
    name = process.lower()
    if name.startswith("postgres"):
        return PartKind.POSTGRES
    if name.startswith("redis"):
        return PartKind.REDIS
    if name.startswith("toxiproxy"):
        return PartKind.TOXIPROXY
    if name.startswith("load"):
        return PartKind.GENERATOR
    if name.startswith("spikekit"):
        return PartKind.TOOLKIT
    return PartKind.SERVICE


def merge_costs(by_process: Mapping[str, tuple[float, float, float]]) -> tuple[Cost, ...]:
    """Group the bench's processes into parts: PostgreSQL's backends with its postmaster,
    the Locust master with its workers; ``(point, low, high)`` ms per request each."""
    parts: dict[tuple[str, PartKind], list[float]] = {}
    names = {PartKind.POSTGRES: "postgres", PartKind.GENERATOR: "load generator (Locust)"}
    for process, (point, low, high) in by_process.items():
        kind = kind_of(process)
        name = names.get(kind, process)
        acc = parts.setdefault((name, kind), [0.0, 0.0, 0.0])
        acc[0] += point
        acc[1] += low
        acc[2] += high
    return tuple(
        Cost(name, kind, acc[0], acc[1], acc[2])
        for (name, kind), acc in sorted(parts.items(), key=lambda item: -item[1][0])
    )


def make_plan(
    scenario: str, peak: Peak, measured: MeasuredCosts, notes: tuple[str, ...] = ()
) -> Plan:
    parts = tuple(plan_part(cost, peak) for cost in measured.costs)
    extrapolated = list(notes)
    if peak.players > measured.knee_players:
        extrapolated.append(
            f"the peak ({peak.players:,} players) is {peak.players / measured.knee_players:,.0f}×"
            f" the measured knee ({measured.knee_players:,}): costs per request are assumed "
            "to stay as measured at scale (no cache, lock or network effect beyond them)"
        )
    if measured.commits_per_request is None:
        extrapolated.append("PostgreSQL commits per request: not measured where the costs were")
    if measured.redis_commands_per_request is None:
        extrapolated.append("Redis commands per request: not measured where the costs were")
    redis = None
    if measured.redis_commands_per_request is not None:
        r = measured.redis_commands_per_request
        redis = Range(peak.rps * r.point, peak.rps * r.low, peak.rps * r.high)
    usl_replicas, usl_limit = _usl(measured, parts, peak)
    return Plan(
        scenario=scenario,
        peak=peak,
        measured=measured,
        parts=parts,
        database=database_load(
            peak, measured.commits_per_request, measured.pgbench_commits_per_core
        ),
        redis_commands_per_s=redis,
        production_cores=total_cores(list(parts), production=True),
        test_cores=total_cores(list(parts), production=False),
        extrapolated=tuple(extrapolated),
        usl_replicas=usl_replicas,
        usl_limit=usl_limit,
    )


def _usl(
    measured: MeasuredCosts, parts: tuple[PartPlan, ...], peak: Peak
) -> tuple[int | None, str | None]:
    fit, part = measured.usl, measured.usl_part
    if fit is None or part is None:
        return None, None
    # the law's throughput is in player requests a second at the knee, for this machine
    need = fit.law.replicas_for(peak.rps)
    limit = fit.law.peak_replicas
    where = (
        f"{part}: more replicas stop helping at about {limit:.1f} "
        f"(interval {fit.peak_replicas.low:.1f}–{fit.peak_replicas.high:.1f}); "
        f"σ = {fit.law.sigma:.3f}, κ = {fit.law.kappa:.4f}"
        if limit != float("inf")
        else f"{part}: no coherency cost measured (κ = 0); σ = {fit.law.sigma:.3f}"
    )
    return need, where
