"""Per-second SLO values for each metric kind."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from spikekit.analysis.rundir import load_run
from spikekit.analysis.series import first_stable, rolling_mean, rolling_ratio, stalled
from spikekit.analysis.slo import evaluate_slo
from spikekit.analysis.synthetic import Disturbance, SyntheticRun, write_synthetic_run
from spikekit.scenarios.slo import SLO, SLOMetric


def run_with(tmp_path: Path, spec: SyntheticRun) -> object:
    return load_run(write_synthetic_run(tmp_path / "run", spec))


def test_rolling_ratio_and_mean() -> None:
    top = np.array([1.0, 0.0, 3.0, 0.0])
    bottom = np.array([10.0, 0.0, 10.0, 0.0])
    assert np.allclose(rolling_ratio(top, bottom, 2), [0.1, 0.1, 0.3, 0.3])
    values = np.array([np.nan, 2.0, 4.0, np.nan, np.nan])
    result = rolling_mean(values, 2)
    assert math.isnan(result[0]) and list(result[1:4]) == [2.0, 3.0, 4.0]
    assert math.isnan(result[4])


def test_first_stable_needs_the_whole_run_inside_the_range() -> None:
    ok = np.array([True, False, True, True, True, False, True, True, True, True])
    assert first_stable(ok, 0, 10, 3) == 2
    assert first_stable(ok, 0, 4, 3) is None
    assert first_stable(ok, 5, 10, 4) == 6


def test_login_success_rate_is_a_floor_over_login_endpoints(tmp_path: Path) -> None:
    spec = SyntheticRun(disturbances=(Disturbance(50, 60, endpoint="login", error_rate=0.5),))
    run = run_with(tmp_path, spec)
    slo = SLO(name="logins", metric=SLOMetric.LOGIN_SUCCESS_RATE, threshold=0.99, window_s=1)
    result = evaluate_slo(run, slo)  # type: ignore[arg-type]
    assert list(np.flatnonzero(result.breached)) == list(range(50, 60))
    assert abs(result.values[55] - 0.5) < 0.01
    assert result.worst() is not None and result.worst() < 0.51  # type: ignore[operator]


def test_wallet_latency_comes_from_platform_metrics(tmp_path: Path) -> None:
    spec = SyntheticRun(disturbances=(Disturbance(20, 30, endpoint="wallet", latency_factor=10),))
    run = run_with(tmp_path, spec)
    slo = SLO(name="wallet", metric=SLOMetric.WALLET_LATENCY_P95, threshold=25, window_s=1)
    result = evaluate_slo(run, slo)  # type: ignore[arg-type]
    assert list(np.flatnonzero(result.breached)) == list(range(20, 30))


def test_stream_lag_and_endpoint_latency(tmp_path: Path) -> None:
    run = run_with(
        tmp_path,
        SyntheticRun(
            stream_backlog=True,
            disturbances=(Disturbance(10, 12, endpoint="bet", latency_factor=20),),
        ),
    )
    lag = SLO(name="lag", metric=SLOMetric.STREAM_LAG, threshold=1000, window_s=1)
    assert evaluate_slo(run, lag).breached[-1]  # type: ignore[arg-type]
    bet = SLO(
        name="bet p99",
        metric=SLOMetric.LATENCY_P99,
        threshold=500,
        endpoint="POST /api/wallet/bet",
        window_s=1,
    )
    assert list(np.flatnonzero(evaluate_slo(run, bet).breached)) == [10, 11]  # type: ignore[arg-type]


def test_an_endpoint_without_data_never_breaches(tmp_path: Path) -> None:
    run = run_with(tmp_path, SyntheticRun())
    slo = SLO(name="ghost", metric=SLOMetric.LATENCY_P95, threshold=1, endpoint="GET /nothing")
    result = evaluate_slo(run, slo)  # type: ignore[arg-type]
    assert not result.breached.any() and result.worst() is None


def test_stalled_counts_silence_only_while_players_are_in_session() -> None:
    answered = np.array([0, 3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0], dtype=np.float64)
    players = np.array([5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0], dtype=np.float64)
    got = stalled(answered, players, window=3)
    # silent since 1 (last answer): stalled at 4, 5; since 6: at 9.. but nobody is left
    assert got.tolist() == [False] * 4 + [True, True] + [False] * 6
    assert stalled(np.zeros(4), np.full(4, 2.0), window=2).tolist() == [False, True, True, True]
