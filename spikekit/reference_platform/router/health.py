"""Provider health without I/O: EWMA of latency and errors, a score, a ranking of studios.

A call's latency and outcome update the EWMAs. A studio that stops getting traffic
has its error rate decay with age (half-life ``DECAY_HALF_LIFE_S``), so it is tried
again after a while instead of being shunned forever (its breaker guards the try).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ALPHA = 0.2
DECAY_HALF_LIFE_S = 5.0
UNHEALTHY_ERROR_RATE = 0.5
DEFAULT_LATENCY_MS = 50.0


@dataclass
class Health:
    """One studio's health as seen by one replica (or merged across replicas)."""

    latency_ms: float = DEFAULT_LATENCY_MS
    error_rate: float = 0.0
    samples: int = 0
    updated: float = 0.0

    def observe(self, latency_ms: float, ok: bool, now: float) -> None:
        if self.samples == 0:
            self.latency_ms, self.error_rate = latency_ms, 0.0 if ok else 1.0
        else:
            self.latency_ms += ALPHA * (latency_ms - self.latency_ms)
            self.error_rate += ALPHA * ((0.0 if ok else 1.0) - self.error_rate)
        self.samples += 1
        self.updated = now

    def current_error_rate(self, now: float) -> float:
        age = max(0.0, now - self.updated)
        return self.error_rate * math.exp(-math.log(2) * age / DECAY_HALF_LIFE_S)

    def score(self, now: float) -> float:
        """Lower is better: latency, penalised by errors (x21 at a 100 % error rate)."""
        return (self.latency_ms + 1.0) * (1.0 + 20.0 * self.current_error_rate(now))

    def healthy(self, now: float) -> bool:
        return self.current_error_rate(now) < UNHEALTHY_ERROR_RATE


def merge(views: Sequence[Health]) -> Health:
    """Several replicas' views of one studio, weighted by their samples."""
    total = sum(v.samples for v in views)
    if total == 0:
        return Health()
    return Health(
        latency_ms=sum(v.latency_ms * v.samples for v in views) / total,
        error_rate=sum(v.error_rate * v.samples for v in views) / total,
        samples=total,
        updated=max(v.updated for v in views),
    )


def rank(
    candidates: Sequence[str],
    health: Mapping[str, Health],
    now: float,
    rng: random.Random,
    prefer: str | None = None,
) -> list[str]:
    """Studios in the order to try: healthy ones first, drawn with weights 1/score (spreads
    load towards the fast ones without herding), ``prefer`` first when it is healthy;
    unhealthy ones last, best score first (failover targets of last resort)."""
    views = {c: health.get(c, Health()) for c in candidates}
    healthy = [c for c in candidates if views[c].healthy(now)]
    unhealthy = sorted(
        (c for c in candidates if c not in healthy), key=lambda c: views[c].score(now)
    )
    ordered: list[str] = []
    if prefer in healthy:
        ordered.append(prefer)
        healthy.remove(prefer)
    while healthy:
        weights = [1.0 / views[c].score(now) for c in healthy]
        choice = rng.choices(healthy, weights)[0]
        ordered.append(choice)
        healthy.remove(choice)
    return ordered + unhealthy
