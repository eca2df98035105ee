"""A fault its steady-state gate kept out is reported as "not injected: platform not
steady" with the breaches, and gets no detect or recover figures."""

from __future__ import annotations

from pathlib import Path

from spikekit.analysis.synthetic import SyntheticFault, SyntheticRun, write_synthetic_run
from spikekit.reports.build import build_report
from spikekit.reports.summary import read_summary
from spikekit.rundir.journal import FaultSkipped, FaultWaiting, read_journal
from spikekit.rundir.layout import JOURNAL

FAULT = SyntheticFault("slow-redis", 100.0, 130.0, fault="network.latency", target="gw")
BREACH = "error rate: 0.091 > 0.05"


def skipped_run(root: Path) -> Path:
    run_dir = write_synthetic_run(root / "run", SyntheticRun(faults=(FAULT,)))
    ids = {"fault_id": "late-outage", "fault": "provider.errors", "target": "provider:busiest"}
    waiting = FaultWaiting(
        ts=1.0, t=150.0, **ids, planned_t=150.0, within_s=20.0, breaches=[BREACH]
    )
    skipped = FaultSkipped(
        ts=2.0, t=170.0, **ids, planned_t=150.0, waited_s=20.0,
        reason="platform not steady", breaches=[BREACH],
    )  # fmt: skip
    with (run_dir / JOURNAL).open("a") as journal:
        for event in (waiting, skipped):
            journal.write(event.model_dump_json() + "\n")
    return run_dir


def test_the_journal_reads_the_new_events_back(tmp_path: Path) -> None:
    events = read_journal(skipped_run(tmp_path) / JOURNAL)
    assert [type(e) for e in events[-2:]] == [FaultWaiting, FaultSkipped]


def test_summary_and_report_list_the_skipped_fault_without_figures(tmp_path: Path) -> None:
    built = build_report(skipped_run(tmp_path))
    summary = read_summary(built.summary_path)
    [skipped] = summary.faults_not_injected
    assert skipped.fault_id == "late-outage" and skipped.reason == "platform not steady"
    assert skipped.breaches == [BREACH] and skipped.waited_s == 20.0
    assert [f.fault_id for f in summary.faults] == ["slow-redis"]  # no detect/recover row
    html = built.html.read_text()
    assert 'id="not-injected"' in html
    assert "not injected: platform not steady" in html and BREACH.replace(">", "&gt;") in html
