"""The report, summary.json and junit.xml say what went wrong with the toolkit itself."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from spikekit.analysis.synthetic import (
    SyntheticFault,
    SyntheticIncident,
    SyntheticRun,
    write_synthetic_run,
)
from spikekit.reports.build import build_report
from spikekit.reports.summary import read_summary

LOST = SyntheticIncident(t=120.0, records_lost_from_s=90.0, players=("p-0500",))
FAULT = SyntheticFault("slow-redis", 100.0, 130.0, fault="network.latency", target="gw")


def spec() -> SyntheticRun:
    return SyntheticRun(
        faults=(FAULT,),
        failed_reverts=("slow-redis",),
        incidents=(LOST,),
        unrequested_tx_ids=("orphan-1",),
        unrequested_at_s=110.0,
    )


def test_summary_lists_incidents_and_faults_still_on(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", spec())
    built = build_report(run_dir)
    summary = read_summary(built.summary_path)
    [incident] = summary.toolkit_incidents
    assert incident.kind == "worker_lost" and incident.records_lost and incident.t == 120.0
    [still_on] = summary.faults_not_reverted
    assert still_on.fault_id == "slow-redis"
    assert still_on.revert_by_hand == f"spikekit chaos revert --all {run_dir}"
    assert summary.faults[0].revert_error == "unreachable"
    assert summary.faults[0].outcome == "not reverted"
    assert summary.audit.status == "inconclusive"
    assert not summary.verdict.conclusive and len(summary.verdict.inconclusive_reasons) == 3
    assert summary.verdict.verdict != "FAILED"


def test_html_shows_the_toolkit_section(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", spec()))
    html = built.html.read_text()
    assert "Faults of the toolkit" in html and 'id="toolkit-incidents"' in html
    assert "generator lost load-worker-1" in html
    assert 'id="not-reverted"' in html and "spikekit chaos revert --all" in html
    assert "· inconclusive" in html


def test_junit_fails_the_revert_and_skips_the_incident(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", spec()))
    suite = ET.parse(built.junit).getroot().find("testsuite")
    assert suite is not None
    revert = suite.find("testcase[@classname='spikekit.revert']")
    assert revert is not None and revert.find("failure") is not None
    toolkit = suite.find("testcase[@classname='spikekit.toolkit']")
    assert toolkit is not None and toolkit.find("skipped") is not None
    assert suite.get("skipped") == "1"


def test_a_clean_run_has_no_toolkit_section(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", SyntheticRun()))
    assert "Faults of the toolkit" not in built.html.read_text()
    document = json.loads(built.summary_path.read_text())
    assert document["toolkit_incidents"] == [] and document["faults_not_reverted"] == []
    assert document["verdict"]["inconclusive_reasons"] == []


def test_an_older_summary_without_the_new_fields_still_reads(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", SyntheticRun()))
    document = json.loads(built.summary_path.read_text())
    for key in ("toolkit_incidents", "faults_not_reverted"):
        del document[key]
    del document["verdict"]["inconclusive_reasons"]
    for fault in document["faults"]:
        fault.pop("revert_error", None)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(document))
    assert read_summary(old).toolkit_incidents == []
