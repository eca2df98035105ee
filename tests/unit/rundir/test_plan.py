"""capacity_plan.json: round trip, and a broken or absent file reads as None with why."""

from __future__ import annotations

from pathlib import Path

from spikekit.rundir.layout import CAPACITY_PLAN
from spikekit.rundir.plan import (
    CapacityPlanFile,
    CurvePoint,
    PartPrediction,
    PredictedStep,
    Provenance,
    Span,
    UslRecord,
    read_plan,
    write_plan,
)


def a_plan() -> CapacityPlanFile:
    return CapacityPlanFile(
        scenario="demo",
        provenance=Provenance(
            source="bench --only platform, 2026-12-02",
            date="2026-12-02",
            commit="commit b87e387",
            cores=2,
            machine="AMD EPYC",
            measured=["CPU per request by process"],
            extrapolated=["the request mix of baseline's personas"],
        ),
        steps=[
            PredictedStep(
                index=0,
                start_s=6.0,
                end_s=20.0,
                players=15,
                rps=4.2,
                parts=[
                    PartPrediction(
                        part="wallet",
                        kind="service",
                        cores=Span(point=0.004, low=0.003, high=0.005),
                    )
                ],
            )
        ],
        usl=UslRecord(
            part="wallet",
            sigma=Span(point=0.5, low=0.4, high=0.6),
            kappa=Span(point=0.01, low=0.0, high=0.02),
            peak_replicas=Span(point=7.0, low=5.0, high=9.0),
            samples={1: [100.0, 102.0], 2: [150.0], 3: [170.0]},
            curve=[CurvePoint(replicas=1.0, rps=Span(point=101.0, low=100.0, high=102.0))],
        ),
    )


def test_a_plan_round_trips(tmp_path: Path) -> None:
    plan = a_plan()
    assert write_plan(tmp_path, plan) == tmp_path / CAPACITY_PLAN
    read, problem = read_plan(tmp_path)
    assert problem is None
    assert read == plan
    assert read is not None and read.usl is not None and read.usl.samples[1] == [100.0, 102.0]


def test_an_absent_plan_is_none_without_a_problem(tmp_path: Path) -> None:
    assert read_plan(tmp_path) == (None, None)


def test_a_torn_or_invalid_plan_is_none_and_says_where(tmp_path: Path) -> None:
    write_plan(tmp_path, a_plan())
    path = tmp_path / CAPACITY_PLAN
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    plan, problem = read_plan(tmp_path)
    assert plan is None and problem is not None and CAPACITY_PLAN in problem
    path.write_text(text.replace('"cores": 2', '"cores": 0'))
    plan, problem = read_plan(tmp_path)
    assert plan is None and problem is not None and "provenance.cores" in problem
