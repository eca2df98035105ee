"""Endpoints hurt by a fault (blast radius) on synthetic runs with known answers.

The default synthetic SLOs are on ``"*"`` (p95 <= 200 ms, errors <= 1 %, 1-second
windows); base latency 40 ms: a latency factor of 10 on an endpoint hurts it.
About 130 requests per endpoint and second at the baseline.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spikekit.analysis.analyse import analyse
from spikekit.analysis.blast import MIN_REQUESTS, limits_for
from spikekit.analysis.rundir import load_run
from spikekit.analysis.synthetic import (
    Disturbance,
    SyntheticFault,
    SyntheticRun,
    write_synthetic_run,
)
from spikekit.scenarios.slo import SLO, SLOMetric

from .conftest import Analyse

WIDE = SyntheticFault("wallet-slow", start_s=100.0, end_s=130.0, target="wallet")
NARROW = SyntheticFault("provider-a-down", start_s=200.0, end_s=220.0)
CASCADE = (
    Disturbance(105, 135, endpoint="lobby", latency_factor=10.0),
    Disturbance(105, 135, endpoint="balance", latency_factor=10.0),
    Disturbance(105, 135, endpoint="wallet/bet", latency_factor=10.0),
)
CONTAINED = (Disturbance(202, 220, endpoint="launch", error_rate=0.3),)


def test_a_cascading_fault_hurts_three_endpoints_a_contained_one_hurts_one(
    analysed: Analyse,
) -> None:
    result = analysed(SyntheticRun(faults=(WIDE, NARROW), disturbances=CASCADE + CONTAINED))
    wide, narrow = result.blast
    assert wide.fault_id == "wallet-slow" and narrow.fault_id == "provider-a-down"
    assert wide.hurt == ("GET /api/lobby", "GET /api/wallet/balance", "POST /api/wallet/bet")
    assert narrow.hurt == ("POST /api/games/launch",)
    (launch,) = [e for e in narrow.endpoints if e.hurt]
    assert launch.breaches and launch.breaches[0].startswith("error rate 30.0% > 1.0%")
    assert wide.not_judged == () and narrow.not_judged == ()


def test_no_disturbance_hurts_no_endpoint(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(faults=(WIDE,)))
    assert result.blast[0].hurt == ()


def test_requests_stalled_until_the_revert_still_count(analysed: Analyse) -> None:
    """The window runs ``stable_s`` past the revert: stalled requests complete there."""
    stalled = (Disturbance(130, 132, endpoint="lobby", latency_factor=100.0),)
    result = analysed(SyntheticRun(faults=(WIDE,), disturbances=stalled))
    blast = result.blast[0]
    assert (blast.start, blast.stop) == (100, 140)
    assert blast.hurt == ("GET /api/lobby",)


def test_the_window_starts_at_the_first_whole_second_after_the_injection(
    analysed: Analyse,
) -> None:
    late = SyntheticFault("late", start_s=100.6, end_s=130.0)
    before = (Disturbance(100, 101, endpoint="lobby", latency_factor=10.0),)
    result = analysed(SyntheticRun(faults=(late,), disturbances=before))
    assert result.blast[0].start == 101
    assert result.blast[0].hurt == ()


def _thin_out(run_dir: Path, endpoint: str, start: int, stop: int, keep: int) -> None:
    """Leave ``endpoint`` one request in each of ``keep`` seconds of ``[start, stop)``."""
    path = run_dir / "timeseries.parquet"
    frame = pd.read_parquet(path)
    inside = (frame["endpoint"] == endpoint) & frame["t"].between(start, stop - 1)
    drop = inside & (frame["t"] >= start + keep)
    frame.loc[inside, ["requests", "failures"]] = [1, 0]
    frame[~drop].reset_index(drop=True).to_parquet(path, index=False)


def test_an_endpoint_with_too_few_requests_is_not_judged(tmp_path: Path) -> None:
    spec = SyntheticRun(faults=(WIDE,), disturbances=CASCADE)
    run_dir = write_synthetic_run(tmp_path / "run", spec)
    _thin_out(run_dir, "GET /api/lobby", 100, 140, keep=MIN_REQUESTS - 1)
    blast = analyse(load_run(run_dir)).blast[0]
    assert blast.not_judged == ("GET /api/lobby",)
    assert blast.hurt == ("GET /api/wallet/balance", "POST /api/wallet/bet")
    (lobby,) = [e for e in blast.endpoints if e.endpoint == "GET /api/lobby"]
    assert lobby.requests == MIN_REQUESTS - 1 and not lobby.hurt


def _slo(name: str, metric: SLOMetric, threshold: float, endpoint: str = "*") -> SLO:
    return SLO(name=name, metric=metric, threshold=threshold, endpoint=endpoint)


def test_limits_own_slo_then_all_then_the_loosest_endpoint_slo() -> None:
    lobby = _slo("lobby", SLOMetric.LATENCY_P95, 300, "GET /api/lobby")
    launch = _slo("launch", SLOMetric.LATENCY_P95, 1000, "POST /api/launch")
    errors = _slo("errors", SLOMetric.ERROR_RATE, 0.01)
    own = limits_for("GET /api/lobby", [lobby, launch, errors])
    assert [(x.what, x.threshold) for x in own] == [("p95", 300), ("error rate", 0.01)]
    loosest = limits_for("POST /api/deposits", [lobby, launch])
    assert [(x.what, x.threshold) for x in loosest] == [("p95", 1000)]
    everything = _slo("all", SLOMetric.LATENCY_P99, 2000)
    fallback = limits_for("POST /api/deposits", [lobby, everything])
    assert [(x.what, x.column, x.threshold) for x in fallback] == [("p99", "p99_ms", 2000)]
    assert limits_for("GET /api/me", [_slo("wallet", SLOMetric.WALLET_LATENCY_P95, 100)]) == []


def test_an_endpoint_error_slo_beats_the_global_one() -> None:
    own = _slo("login errors", SLOMetric.ERROR_RATE, 0.2, "POST /api/login")
    errors = _slo("errors", SLOMetric.ERROR_RATE, 0.01)
    limits = limits_for("POST /api/login", [errors, own])
    assert [(x.what, x.threshold) for x in limits] == [("error rate", 0.2)]
