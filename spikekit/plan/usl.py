"""The Universal Scalability Law: where more replicas stop helping. Pure (numpy), no I/O.

Gunther's law for the throughput of ``N`` replicas of one service::

    X(N) = λ·N / (1 + σ·(N − 1) + κ·N·(N − 1))

``λ`` is one replica's throughput, ``σ`` the contention (the share of the work that is
serial: a lock, one database, a shared core) and ``κ`` the coherency cost (replicas
keeping each other in step). With ``κ > 0`` the throughput peaks at
``N* = sqrt((1 − σ) / κ)`` and falls beyond it; with ``κ = 0`` it levels off at ``λ/σ``.

The fit is the usual linearisation: with the relative capacity ``C(N) = X(N) / X(1)``,
``N / C(N) − 1 = σ·(N − 1) + κ·N·(N − 1)``, a least-squares fit through the origin of
two coefficients, ``0 ≤ σ ≤ 1`` and ``κ ≥ 0``. It needs ``X(1)`` and at least two
other replica counts.
The interval comes from a bootstrap: each step's per-second throughputs are resampled,
the fit repeated, and the 5th and 95th percentiles of every derived figure kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spikekit.errors import SpikekitError

#: Resamples of the bootstrap (a fit is microseconds: a thousand cost nothing).
BOOTSTRAP = 1000
INTERVAL = (5.0, 95.0)
SIGMA_GRID = 1001  # σ from 0 to 1 in steps of 0.001


class FitError(SpikekitError):
    """The measured steps cannot be fitted (too few, or no throughput)."""


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Usl:
    """A fitted law: ``lam`` is one replica's throughput (requests per second)."""

    lam: float
    sigma: float
    kappa: float

    def throughput(self, replicas: float) -> float:
        n = replicas
        return self.lam * n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))

    @property
    def peak_replicas(self) -> float:
        """N*, where more replicas stop helping (``inf`` without coherency cost)."""
        if self.kappa <= 0.0:
            return math.inf
        return max(1.0, math.sqrt(max(0.0, 1.0 - self.sigma) / self.kappa))

    @property
    def ceiling(self) -> float:
        """The most throughput any replica count reaches."""
        if self.kappa <= 0.0:
            return math.inf if self.sigma <= 0.0 else self.lam / self.sigma
        best = max(1.0, self.peak_replicas)
        return max(self.throughput(math.floor(best)), self.throughput(math.ceil(best)))

    def replicas_for(self, target: float, limit: int = 1000) -> int | None:
        """The fewest replicas whose throughput reaches ``target``; None when none does."""
        for n in range(1, limit + 1):
            if self.throughput(n) >= target:
                return n
            if n > self.peak_replicas + 1:
                return None  # past the peak it only falls
        return None


@dataclass(frozen=True)
class UslFit:
    law: Usl
    lam: Interval
    sigma: Interval
    kappa: Interval
    peak_replicas: Interval
    steps: Mapping[int, float]  # replicas → the measured mean throughput

    def residual(self, replicas: int) -> float:
        """(predicted − measured) / measured at a measured step."""
        measured = self.steps[replicas]
        return (self.law.throughput(replicas) - measured) / measured


def fit_coefficients(means: Mapping[int, float]) -> Usl:
    """σ and κ ≥ 0 by least squares on the linearised law; λ = X(1)."""
    if 1 not in means or len(means) < 3:
        raise FitError("the law needs the throughput of 1 replica and of 2 more replica counts")
    x1 = means[1]
    if x1 <= 0.0 or any(x <= 0.0 for x in means.values()):
        raise FitError("every measured step needs a throughput above 0")
    ns = np.array([n for n in sorted(means) if n != 1], dtype=float)
    capacity = np.array([means[int(n)] / x1 for n in ns])
    y = ns / capacity - 1.0
    a = np.column_stack([ns - 1.0, ns * (ns - 1.0)])
    sigma, kappa = _nonnegative_least_squares(a, y)
    return Usl(lam=x1, sigma=sigma, kappa=kappa)


def _nonnegative_least_squares(a: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """σ in [0, 1] and κ ≥ 0 with the least squared error: for each σ on a fine grid the
    best κ ≥ 0 in closed form. (σ above 1 has no meaning: throughput that falls as soon
    as a replica is added is coherency cost, κ, with everything serial.)"""
    x_sigma, x_kappa = a[:, 0], a[:, 1]
    kk = float(x_kappa @ x_kappa)
    sigmas = np.linspace(0.0, 1.0, SIGMA_GRID)
    rest = y[None, :] - sigmas[:, None] * x_sigma[None, :]
    kappas = np.maximum(0.0, rest @ x_kappa / kk) if kk > 0 else np.zeros(SIGMA_GRID)
    errors = ((rest - kappas[:, None] * x_kappa[None, :]) ** 2).sum(axis=1)
    best = int(np.argmin(errors))
    return float(sigmas[best]), float(kappas[best])


def fit(samples: Mapping[int, Sequence[float]], seed: int = 0) -> UslFit:
    """Fit per-second throughputs measured at several replica counts, with intervals."""
    clean = {n: np.asarray(v, dtype=float) for n, v in samples.items() if len(v) > 0}
    if any(n < 1 for n in clean):
        raise FitError("replica counts start at 1")
    means = {n: float(v.mean()) for n, v in clean.items()}
    law = fit_coefficients(means)
    rng = np.random.default_rng(seed)
    draws: list[Usl] = []
    for _ in range(BOOTSTRAP):
        resampled = {n: float(rng.choice(v, size=len(v)).mean()) for n, v in clean.items()}
        try:
            draws.append(fit_coefficients(resampled))
        except FitError:
            continue
    if not draws:
        raise FitError("no resample of the steps could be fitted")

    def interval(values: Sequence[float]) -> Interval:
        low, high = np.percentile(np.asarray(values, dtype=float), INTERVAL)
        return Interval(float(low), float(high))

    return UslFit(
        law=law,
        lam=interval([d.lam for d in draws]),
        sigma=interval([d.sigma for d in draws]),
        kappa=interval([d.kappa for d in draws]),
        peak_replicas=interval([min(d.peak_replicas, 1e9) for d in draws]),
        steps=means,
    )
