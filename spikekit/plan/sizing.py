"""What a peak needs, part by part, from measured per-request costs. Pure, no I/O.

The unit is one *player request* (any endpoint, in the mix it was measured with): each
part of the platform spent ``cpu_ms`` of CPU on it on the machine that measured it. At a
peak of ``rps`` player requests a second a part needs ``rps × cpu_ms / 1000`` cores. How
those cores become replicas depends on the part:

- a **service** process (Python, one event loop) uses at most one core: replicas at
  ``TARGET_UTILISATION`` of a core each, so that a replica has room for a burst;
- **PostgreSQL** is one primary: its cores, and its commits a second against the pgbench
  TPC-B ceiling measured per core; when one large machine would not do, the plan says so
  (partition the wallet, or more than one primary);
- **Redis** runs one command at a time: instances at ``REDIS_OPS_PER_INSTANCE`` each;
- **Toxiproxy** is the test's own fault injector, not part of a production platform: it is
  sized for the test only;
- the **load generator**: Locust workers, by CPU and by the open files a process holds.

Every figure carries a low and a high: the costs' spread over the measured steps, so the
plan is an interval, not a point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

#: A replica is planned to run at this share of a core at the peak.
TARGET_UTILISATION = 0.7
#: Redis commands a second one instance serves here without pipelining (FACTS: ~88k).
REDIS_OPS_PER_INSTANCE = 80_000.0
#: The most cores a single PostgreSQL primary is planned on.
LARGEST_PRIMARY_CORES = 64
#: Players one Locust worker process holds (open files: 20,000 a process; some are its own).
PLAYERS_PER_WORKER = 15_000


class PartKind(StrEnum):
    SERVICE = "service"
    POSTGRES = "postgres"
    REDIS = "redis"
    TOXIPROXY = "toxiproxy"
    GENERATOR = "generator"
    TOOLKIT = "toolkit"  # the run's own orchestrator and telemetry recorder


@dataclass(frozen=True)
class Cost:
    """One part's CPU per player request, with its spread over the measured steps."""

    part: str
    kind: PartKind
    cpu_ms: float
    cpu_ms_low: float
    cpu_ms_high: float


@dataclass(frozen=True)
class Range:
    point: float
    low: float
    high: float

    @classmethod
    def of(cls, value: float, low: float, high: float) -> Range:
        return cls(value, min(low, value), max(high, value))


@dataclass(frozen=True)
class PartPlan:
    part: str
    kind: PartKind
    cores: Range
    replicas: Range  # processes, instances or workers; PostgreSQL: 1 (see the note)
    note: str


@dataclass(frozen=True)
class Peak:
    """The scenario at its peak."""

    players: int
    rps: float
    knee_rps: float = 0.0  # where the costs were measured (the run's own work is per second)


@dataclass(frozen=True)
class DatabaseLoad:
    commits_per_s: Range | None  # None when the bench did not measure commits per request
    ceiling_per_core: float | None  # pgbench TPC-B commits a second per core, measured
    cores_for_commits: Range | None


def replicas_for(cores: float, per_replica: float = TARGET_UTILISATION) -> int:
    return max(1, math.ceil(cores / per_replica - 1e-9))


def plan_part(cost: Cost, peak: Peak) -> PartPlan:
    def cores(ms: float) -> float:
        return peak.rps * ms / 1000.0

    if cost.kind is PartKind.TOOLKIT:
        # the run's own work follows the scrape and the per-second rows, not the requests
        measured = Range.of(cost.cpu_ms, cost.cpu_ms_low, cost.cpu_ms_high)
        at_knee = Range(
            *(peak.knee_rps * ms / 1000.0 for ms in (measured.point, measured.low, measured.high))
        )
        return PartPlan(
            cost.part, cost.kind, at_knee, Range(1, 1, 1),
            "the run itself: its scrape and per-second rows do not grow with the requests",
        )  # fmt: skip
    need = Range.of(cores(cost.cpu_ms), cores(cost.cpu_ms_low), cores(cost.cpu_ms_high))
    if cost.kind is PartKind.POSTGRES:
        replicas = Range(1, 1, 1)
        primary = math.ceil(need.high / TARGET_UTILISATION - 1e-9)
        note = f"one primary of {primary} cores"
        if primary > LARGEST_PRIMARY_CORES:
            note = (
                f"{primary} cores: more than a {LARGEST_PRIMARY_CORES}-core primary; partition "
                "the wallet or move reads off the primary"
            )
    elif cost.kind is PartKind.REDIS:
        # one command at a time: its CPU is the limit, at the utilisation of a service
        replicas = _replicas(need)
        note = f"shards (Redis Cluster) at {TARGET_UTILISATION:.0%} of its one core each"
    elif cost.kind is PartKind.GENERATOR:
        by_players = math.ceil(peak.players / PLAYERS_PER_WORKER)
        by_cpu = _replicas(need)
        replicas = Range(
            max(by_cpu.point, by_players), max(by_cpu.low, by_players), max(by_cpu.high, by_players)
        )
        note = f"workers (by CPU, and at most {PLAYERS_PER_WORKER:,} players each)"
    elif cost.kind is PartKind.TOXIPROXY:
        replicas = _replicas(need)
        note = "test only: a production platform has no fault injector"
    else:
        replicas = _replicas(need)
        note = f"replicas at {TARGET_UTILISATION:.0%} of a core each"
    return PartPlan(cost.part, cost.kind, need, replicas, note)


def _replicas(cores: Range) -> Range:
    return Range(replicas_for(cores.point), replicas_for(cores.low), replicas_for(cores.high))


def database_load(
    peak: Peak, commits_per_request: Range | None, ceiling_per_core: float | None
) -> DatabaseLoad:
    if commits_per_request is None:
        return DatabaseLoad(None, ceiling_per_core, None)
    commits = Range(
        peak.rps * commits_per_request.point,
        peak.rps * commits_per_request.low,
        peak.rps * commits_per_request.high,
    )
    if ceiling_per_core is None or ceiling_per_core <= 0:
        return DatabaseLoad(commits, ceiling_per_core, None)
    cores = Range(
        commits.point / ceiling_per_core,
        commits.low / ceiling_per_core,
        commits.high / ceiling_per_core,
    )
    return DatabaseLoad(commits, ceiling_per_core, cores)


def total_cores(parts: list[PartPlan], *, production: bool) -> Range:
    """Cores of every part; ``production`` leaves out the test's own parts."""
    test_only = {PartKind.TOXIPROXY, PartKind.GENERATOR, PartKind.TOOLKIT}
    chosen = [p for p in parts if not (production and p.kind in test_only)]
    return Range(
        sum(p.cores.point for p in chosen),
        sum(p.cores.low for p in chosen),
        sum(p.cores.high for p in chosen),
    )
