"""The business SLIs in summary.json, report.html and junit.xml, from a run directory."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from spikekit.analysis.synthetic import SyntheticRun, default_slos, write_synthetic_run
from spikekit.reports.build import build_report
from spikekit.reports.summary import Summary
from spikekit.rundir.layout import AUDIT, PLATFORM_METRICS
from spikekit.scenarios.slo import SLO, SLOMetric

N = 30


def _run(tmp_path: Path) -> Path:
    slos = (
        *default_slos(),
        SLO(name="deposits", metric=SLOMetric.DEPOSIT_COMPLETION_P95, threshold=5000),
        SLO(name="unsettled rounds", metric=SLOMetric.UNSETTLED_ROUNDS, threshold=0),
    )
    run_dir = write_synthetic_run(
        tmp_path / "run", SyntheticRun(duration_s=N, ramp=(0.0, 0.1), slos=slos)
    )
    metrics = pd.read_parquet(run_dir / PLATFORM_METRICS)
    labels = "kind=deposit,status=completed"
    extra = pd.DataFrame(
        [(t, "payments-worker", "payments_completion_p95_ms", labels, 400.0) for t in range(N)]
        + [(t, "payments-worker", "payments_completion_per_s", labels, 2.0) for t in range(N)]
        + [
            (t, "wallet", "wallet_transactions_per_s", f"operation={op},outcome=OK", rate)
            for t in range(N)
            for op, rate in (("bet_settle", 50.0), ("rollback", 1.0))
        ],
        columns=list(metrics.columns),
    )
    pd.concat([metrics, extra], ignore_index=True).to_parquet(run_dir / PLATFORM_METRICS)
    audit = json.loads((run_dir / AUDIT).read_text())
    audit["ok"] = False
    audit["checks"].append(
        {
            "name": "rounds_settled",
            "ok": False,
            "detail": "2 round(s) with a bet but neither a win nor a rollback",
            "offending_ids": ["aurora:r1", "blitz:r2"],
        }
    )
    (run_dir / AUDIT).write_text(json.dumps(audit))
    return run_dir


def test_business_numbers_reach_every_output(tmp_path: Path) -> None:
    built = build_report(_run(tmp_path))
    summary = Summary.model_validate_json(built.summary_path.read_text())
    keys = summary.key_numbers
    assert keys.deposit_completion_p95_ms == 400.0
    assert keys.withdrawal_completion_p95_ms is None  # none recorded
    assert keys.round_rollback_rate == 1.0 / 50.0
    assert keys.unsettled_rounds == 2
    assert keys.launch_success_rate is not None and 0.9 < keys.launch_success_rate <= 1.0
    slos = {s.metric: s for s in summary.slos}
    unsettled = slos["unsettled_rounds"]
    assert unsettled.at_end and not unsettled.passed and unsettled.worst_value == 2
    assert not slos["deposit_completion_p95"].at_end and slos["deposit_completion_p95"].passed
    assert "'unsettled rounds' was breached at the end of the run (2 against a threshold of 0)" in (
        summary.verdict.paragraph
    )

    html = built.html.read_text()
    assert 'id="business-numbers"' in html and "400 ms" in html and "2.00 %" in html
    assert "end of run" in html

    cases = {c.get("name"): c for c in ET.parse(built.junit).getroot().iter("testcase")}
    failure = cases["unsettled rounds"].find("failure")
    assert failure is not None and "at the end of the run" in (failure.get("message") or "")


def test_an_older_summary_without_the_business_numbers_still_reads(tmp_path: Path) -> None:
    built = build_report(_run(tmp_path))
    document = json.loads(built.summary_path.read_text())
    for key in (
        "deposit_completion_p95_ms",
        "withdrawal_completion_p95_ms",
        "launch_success_rate",
        "round_rollback_rate",
        "unsettled_rounds",
    ):
        del document["key_numbers"][key]
    for slo in document["slos"]:
        del slo["at_end"]
    old = Summary.model_validate(document)
    assert old.key_numbers.unsettled_rounds is None and not any(s.at_end for s in old.slos)
