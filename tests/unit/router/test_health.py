"""Health scoring and routing choice, without I/O."""

from __future__ import annotations

import random
from collections import Counter

from spikekit.reference_platform.router.health import Health, merge, rank


def _health(latency_ms: float, errors: int, calls: int, now: float = 100.0) -> Health:
    health = Health()
    for index in range(calls):
        health.observe(latency_ms, ok=index >= errors, now=now)
    return health


def test_errors_and_latency_raise_the_score() -> None:
    fast, slow = _health(5, 0, 20), _health(80, 0, 20)
    failing = Health(latency_ms=5, error_rate=0.9, samples=20, updated=100.0)
    assert fast.score(100) < slow.score(100) < failing.score(100)
    assert not failing.healthy(100) and fast.healthy(100)


def test_the_ewma_follows_recent_calls() -> None:
    health = _health(10, 0, 10)
    for _ in range(20):
        health.observe(10, ok=False, now=101)
    assert health.error_rate > 0.95
    for _ in range(20):
        health.observe(10, ok=True, now=102)
    assert health.error_rate < 0.05


def test_an_idle_studios_error_rate_decays_so_it_is_tried_again() -> None:
    failing = Health(latency_ms=5, error_rate=1.0, samples=20, updated=100.0)
    assert not failing.healthy(100.0)
    assert failing.current_error_rate(105.0) == 0.5 * failing.error_rate
    assert failing.healthy(106.0)


def test_replicas_views_merge_by_samples() -> None:
    merged = merge(
        [
            Health(latency_ms=10, error_rate=0.0, samples=30, updated=1),
            Health(latency_ms=50, error_rate=1.0, samples=10, updated=2),
        ]
    )
    assert merged.latency_ms == 20 and merged.error_rate == 0.25
    assert merged.samples == 40 and merged.updated == 2
    assert merge([]).samples == 0


def test_ranking_prefers_healthy_fast_studios_and_spreads_load() -> None:
    health = {"aurora": _health(5, 0, 20), "blitz": _health(20, 0, 20), "cobalt": _health(5, 0, 20)}
    health["cobalt"] = Health(latency_ms=5, error_rate=0.9, samples=20, updated=100.0)
    rng = random.Random(5)
    firsts = Counter(
        rank(["aurora", "blitz", "cobalt"], health, 100.0, rng)[0] for _ in range(2000)
    )
    assert firsts["cobalt"] == 0  # unhealthy: only ever a last resort
    assert firsts["aurora"] > 2.5 * firsts["blitz"] > 0  # 1/score weights: ~3.5x
    assert rank(["aurora", "blitz", "cobalt"], health, 100.0, rng)[-1] == "cobalt"


def test_the_sessions_studio_comes_first_while_healthy() -> None:
    health = {"aurora": _health(5, 0, 20), "blitz": _health(50, 0, 20)}
    rng = random.Random(1)
    assert all(
        rank(["aurora", "blitz"], health, 100.0, rng, "blitz")[0] == "blitz" for _ in range(50)
    )
    health["blitz"] = Health(latency_ms=50, error_rate=1.0, samples=20, updated=100.0)
    assert rank(["aurora", "blitz"], health, 100.0, rng, "blitz") == ["aurora", "blitz"]


def test_unknown_studios_are_ranked_with_default_health() -> None:
    assert sorted(rank(["x", "y"], {}, 0.0, random.Random(0))) == ["x", "y"]
