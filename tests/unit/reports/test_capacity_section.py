"""The report's section "Capacity: measured vs predicted", from the run directory alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spikekit.analysis.synthetic import SyntheticRun, write_synthetic_run
from spikekit.plan import usl
from spikekit.reports.build import build_report
from spikekit.reports.plan_plots import as_png, usl_figure
from spikekit.run.plan_record import usl_record
from spikekit.rundir.plan import (
    CapacityPlanFile,
    PartPrediction,
    PredictedStep,
    Provenance,
    Span,
    write_plan,
)

SAMPLES = {1: [100.0, 104.0, 98.0, 101.0], 2: [160.0, 150.0, 158.0], 3: [180.0, 175.0, 190.0]}


def test_the_scaling_law_plot_renders_with_its_band_around_the_curve() -> None:
    record = usl_record(usl.fit(SAMPLES), "wallet", SAMPLES)
    assert record.peak_replicas is None or record.peak_replicas.point >= 1
    for point in record.curve:
        assert point.rps.low <= point.rps.point <= point.rps.high
    png = as_png(usl_figure(record))
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def section(html: str) -> str:
    start = html.index('<h2 id="capacity">')
    return html[start : html.index("<h2>", start + 1)]


def test_a_run_without_a_plan_says_what_is_needed(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", SyntheticRun(duration_s=120)))
    text = section(built.html.read_text())
    assert "No capacity plan for this run" in text and "bench --only platform" in text
    capacity = json.loads(built.summary_path.read_text())["capacity"]
    assert capacity["available"] is False and "capacity.json" in capacity["needs"]


def test_a_plan_is_set_beside_the_run_and_rebuilds_identically(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun(duration_s=120))
    parts = [
        PartPrediction(part="gateway", kind="service", cores=Span(point=0.1, low=0.08, high=0.12))
    ]
    write_plan(
        run_dir,
        CapacityPlanFile(
            scenario="synthetic",
            provenance=Provenance(
                source="bench --only platform, 2026-12-02, commit b87e387, 2 cores",
                date="2026-12-02",
                commit="commit b87e387",
                cores=2,
                machine="AMD EPYC",
                measured=["CPU per request by process at the knee"],
                extrapolated=["the request mix of baseline's personas"],
            ),
            steps=[
                PredictedStep(index=0, start_s=20, end_s=90, players=100, rps=50.0, parts=parts)
            ],
            usl=usl_record(usl.fit(SAMPLES), "wallet", SAMPLES),
        ),
    )
    built = build_report(run_dir)
    first = section(built.html.read_text())
    capacity = json.loads(built.summary_path.read_text())["capacity"]
    assert capacity["available"] is True
    (step,) = capacity["steps"]
    assert step["measured_rps"] > 0
    assert np.isclose(step["rps_error"], (50.0 - step["measured_rps"]) / step["measured_rps"])
    for expected in (
        "capacity-steps",
        "2 cores (AMD EPYC)",
        "extrapolated",
        "share the same cores",
        "σ =",
    ):
        assert expected in first, expected
    assert first.count("<svg") == 2  # per step, and the law
    again = build_report(run_dir)
    assert section(again.html.read_text()) == first
    assert json.loads(again.summary_path.read_text())["capacity"] == capacity
