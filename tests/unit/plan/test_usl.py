from __future__ import annotations

import math

import numpy as np
import pytest

from spikekit.plan.usl import FitError, Usl, fit, fit_coefficients


def _steps(
    law: Usl, counts: tuple[int, ...], noise: float, seconds: int = 60
) -> dict[int, list[float]]:
    rng = np.random.default_rng(7)
    return {n: list(law.throughput(n) * (1.0 + rng.normal(0.0, noise, seconds))) for n in counts}


def test_the_fit_recovers_a_known_law_from_exact_steps() -> None:
    truth = Usl(lam=100.0, sigma=0.05, kappa=0.002)
    law = fit_coefficients({n: truth.throughput(n) for n in (1, 2, 3, 4)})
    assert law.sigma == pytest.approx(0.05, rel=1e-6)
    assert law.kappa == pytest.approx(0.002, rel=1e-6)
    assert law.peak_replicas == pytest.approx(math.sqrt(0.95 / 0.002), rel=1e-6)


def test_noisy_steps_give_an_interval_that_holds_the_truth() -> None:
    truth = Usl(lam=120.0, sigma=0.1, kappa=0.01)
    fitted = fit(_steps(truth, (1, 2, 3), noise=0.03))
    assert truth.sigma in fitted.sigma and truth.kappa in fitted.kappa
    assert fitted.sigma.low < fitted.sigma.high
    assert truth.peak_replicas in fitted.peak_replicas
    assert abs(fitted.residual(2)) < 0.05


def test_coefficients_are_never_negative() -> None:
    # better than linear (a cache warming up): the law cannot say so, it says "no cost"
    law = fit_coefficients({1: 100.0, 2: 210.0, 3: 330.0})
    assert law.sigma == 0.0 and law.kappa == 0.0
    assert law.peak_replicas == math.inf and law.ceiling == math.inf


def test_contention_without_coherency_levels_off() -> None:
    law = Usl(lam=100.0, sigma=0.25, kappa=0.0)
    assert law.ceiling == pytest.approx(400.0)
    assert law.replicas_for(300.0) == 9  # 100·9 / (1 + 0.25·8) = 300
    assert law.replicas_for(401.0, limit=200) is None


def test_past_the_peak_no_replica_count_reaches_a_higher_target() -> None:
    law = Usl(lam=100.0, sigma=0.05, kappa=0.05)  # N* ≈ 4.4
    assert law.replicas_for(law.ceiling * 1.01) is None
    assert law.replicas_for(200.0) == 3
    assert law.throughput(8) < law.throughput(4)


@pytest.mark.parametrize(
    "means",
    [{1: 100.0, 2: 180.0}, {2: 180.0, 3: 240.0, 4: 300.0}, {1: 100.0, 2: 0.0, 3: 10.0}],
)
def test_too_few_or_empty_steps_are_refused(means: dict[int, float]) -> None:
    with pytest.raises(FitError):
        fit_coefficients(means)
