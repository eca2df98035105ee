"""What a bottleneck hint is: its kinds, its fields, and the run's phase at each second.

Shared by :mod:`.hints` (which finds them) and :mod:`.shedding_hints` (the hints of a
service refusing work: shedding rules and 5xx answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.comparison import phase_masks
from spikekit.analysis.rundir import RunData
from spikekit.analysis.sources import Episode


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


def who(service: str, replica: str | None) -> str:
    return service if replica is None else f"{service} ({replica})"


def when(e: Episode, phase: Sequence[str]) -> str:
    return f"from t={e.first_t} s ({phase[e.first_t]}) to t={e.last_t} s, {e.seconds} s in all"
