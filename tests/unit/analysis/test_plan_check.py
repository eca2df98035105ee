"""The capacity plan against hand-made per-second frames."""

from __future__ import annotations

import pandas as pd
import pytest

from spikekit.analysis.plan_check import check_plan, cores_by_part, error_of, served_rps
from spikekit.rundir.plan import CapacityPlanFile, PartPrediction, PredictedStep, Provenance, Span

N = 60


def timeseries() -> pd.DataFrame:
    rows = []
    for t in range(N):
        rps = 10 if t < 30 else 40  # two steps: 10 req/s, then 40
        rows.append({"t": t, "endpoint": "*", "requests": rps, "failures": 1 if t >= 30 else 0})
        rows.append({"t": t, "endpoint": "GET /api/lobby", "requests": 999, "failures": 0})
    return pd.DataFrame(rows)


def metrics() -> pd.DataFrame:
    rows = []
    for t in range(N):
        wallet = 20.0 if t < 30 else 80.0  # % of one core
        rows.append(
            {
                "t": t,
                "service": "wallet",
                "metric": "process_cpu_percent",
                "labels": "process=wallet",
                "value": wallet,
            }
        )
        for worker in (1, 2):
            rows.append(
                {
                    "t": t,
                    "service": "payments-worker",
                    "metric": "process_cpu_percent",
                    "labels": f"process=payments-worker-{worker}",
                    "value": 5.0,
                }
            )
        rows.append(
            {
                "t": t,
                "service": "postgres",
                "metric": "process_cpu_percent",
                "labels": "process=postgres",
                "value": 1.0,
            }
        )
        rows.append(
            {
                "t": t,
                "service": "postgres",
                "metric": "process_tree_cpu_percent",
                "labels": "process=postgres",
                "value": 30.0,
            }
        )
    return pd.DataFrame(rows)


def step(index: int, start: float, end: float, rps: float, wallet: float) -> PredictedStep:
    parts = [
        PartPrediction(
            part="wallet",
            kind="service",
            cores=Span(point=wallet, low=wallet * 0.85, high=wallet * 1.15),
        ),
        PartPrediction(
            part="payments-worker", kind="service", cores=Span(point=0.1, low=0.08, high=0.12)
        ),
        PartPrediction(
            part="postgres", kind="postgres", cores=Span(point=0.3, low=0.25, high=0.35)
        ),
        PartPrediction(
            part="toxiproxy", kind="toxiproxy", cores=Span(point=0.2, low=0.1, high=0.3)
        ),
    ]
    return PredictedStep(
        index=index, start_s=start, end_s=end, players=10 * (index + 1), rps=rps, parts=parts
    )


def plan() -> CapacityPlanFile:
    provenance = Provenance(
        source="bench",
        date="2026-12-02",
        commit="c",
        cores=2,
        machine="",
        measured=[],
        extrapolated=[],
    )
    return CapacityPlanFile(
        scenario="demo",
        provenance=provenance,
        steps=[step(0, 5, 30, 12.0, 0.25), step(1, 35, 60, 30.0, 0.8), step(2, 90, 120, 50.0, 1.0)],
    )


def test_served_requests_leave_failures_and_other_endpoints_out() -> None:
    assert served_rps(timeseries(), 5, 30) == pytest.approx(10.0)
    assert served_rps(timeseries(), 35, 60) == pytest.approx(39.0)
    assert served_rps(timeseries(), 100, 110) is None


def test_cores_sum_a_services_processes_and_prefer_a_process_tree() -> None:
    cores = cores_by_part(metrics(), N, 35, 60)
    assert cores["wallet"] == pytest.approx(0.8)
    assert cores["payments-worker"] == pytest.approx(0.1)
    assert cores["postgres"] == pytest.approx(0.3)  # the tree (backends), not the postmaster


def test_each_step_is_checked_with_its_error_and_a_step_past_the_end_left_out() -> None:
    checks = check_plan(plan(), timeseries(), metrics(), N)
    assert [c.index for c in checks] == [0, 1]
    first, second = checks
    assert first.measured_rps == pytest.approx(10.0)
    assert first.rps_error == pytest.approx(0.2)  # predicted 12 against 10 measured
    assert second.rps_error == pytest.approx((30 - 39) / 39)
    parts = {p.part: p for p in first.parts}
    assert parts["wallet"].measured == pytest.approx(0.2)
    assert parts["wallet"].error == pytest.approx(0.25)
    assert parts["toxiproxy"].measured is None and parts["toxiproxy"].error is None


def test_no_error_against_nothing_measured() -> None:
    assert error_of(1.0, None) is None
    assert error_of(1.0, 0.0) is None
    assert error_of(3.0, 2.0) == pytest.approx(0.5)
