"""SLOs of ``metric: query`` on hand-made run data: a recorded series (a PromQL query's,
as the recorder writes it) judged each second over its window, a ``floor`` below its
threshold, and a fault's detection and recovery from them like any telemetry SLO."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spikekit.analysis.analyse import analyse
from spikekit.analysis.rundir import load_run
from spikekit.analysis.slo import evaluate_slo
from spikekit.analysis.synthetic import SyntheticFault, SyntheticRun, write_synthetic_run
from spikekit.scenarios.slo import SLO

N = 40


def _rows() -> pd.DataFrame:
    rows = []
    for t in range(N):
        stalled = 12 <= t < 20  # the fault (10-16 s) shows 2 s late, lasts 4 s past it
        rows.append((t, "prometheus", "slo_queue_depth", "queue=a", 50.0 if stalled else 5.0))
        rows.append((t, "prometheus", "slo_queue_depth", "queue=b", 2.0))
        rows.append((t, "api", "slo_queue_depth", "queue=a", 999.0))  # another service
        rows.append((t, "prometheus", "workers_up", "", 1.0 if stalled else 3.0))
    frame = pd.DataFrame(rows, columns=["t", "service", "metric", "labels", "value"])
    for column in ("service", "metric", "labels"):
        frame[column] = frame[column].astype("category")
    return frame


def test_query_slos_are_judged_and_detect_and_recover_a_fault(tmp_path: Path) -> None:
    depth = SLO(name="Queue depth", metric="query", query="max(q)", threshold=10, window_s=1)
    assert depth.series is not None and depth.series.metric == "slo_queue_depth"
    workers = SLO.model_validate(
        {"name": "workers", "metric": "query", "series": {"metric": "workers_up"},
         "threshold": 2, "floor": True, "window_s": 2}
    )  # fmt: skip
    spec = SyntheticRun(
        duration_s=N,
        ramp=(0.0, 0.1),
        faults=(SyntheticFault("queue-stall", 10, 16),),
        slos=(depth, workers),
        stable_s=5,
    )
    run = load_run(write_synthetic_run(tmp_path / "run", spec))
    run = dataclasses.replace(run, platform_metrics=_rows())
    values = evaluate_slo(run, depth)
    assert values.values[5] == 5.0 and values.values[15] == 50.0  # the worst queue
    assert list(np.flatnonzero(values.breached)) == list(range(12, 20))
    floor = evaluate_slo(run, workers)
    assert floor.values[12] == pytest.approx(2.0)  # (3 + 1) / 2 over the 2 s window
    assert list(np.flatnonzero(floor.breached)) == list(range(13, 20))
    analysis = analyse(run)
    by_name = {r.series.slo.name: r for r in analysis.slos}
    queue = by_name["Queue depth"]
    assert queue.worst_value == 50.0 and queue.breached_seconds == 8
    assert queue.passed and queue.unexcused_seconds == 0  # inside the fault's impact window
    assert by_name["workers"].worst_value == 1.0
    [fault] = analysis.faults
    assert fault.time_to_detect_s == 2
    assert set(fault.breached_slos) == {"Queue depth", "workers"}
    assert fault.recovered and fault.time_to_recover_s == 4

    # without the fault, nothing excuses the breach: the run fails on it
    quiet = load_run(write_synthetic_run(tmp_path / "quiet", dataclasses.replace(spec, faults=())))
    quiet = dataclasses.replace(quiet, platform_metrics=_rows())
    judged = {r.series.slo.name: r for r in analyse(quiet).slos}
    assert not judged["Queue depth"].passed and judged["Queue depth"].unexcused_seconds == 8
    assert analyse(quiet).verdict.verdict == "FAILED"
