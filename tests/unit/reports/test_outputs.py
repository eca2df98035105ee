"""report.html, summary.json and junit.xml built from synthetic run directories."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from spikekit.analysis.synthetic import write_synthetic_run
from spikekit.reports.build import build_report
from spikekit.reports.summary import SCHEMA_VERSION, Summary

from .conftest import FAULTS, cascading_spec, degraded_spec, failed_spec

DOCS = Path(__file__).parents[3] / "docs" / "summary-schema.md"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_html_is_self_contained_and_shows_the_verdict_and_every_fault(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", failed_spec()))
    html = built.html.read_text()
    assert not EXTERNAL.search(html)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert "FAILED" in html
    for fault in FAULTS:
        assert fault.fault_id in html
    assert html.count("<svg") == 6
    assert "000001" in html and "000008" in html  # the audit lists the offending ids
    assert len(html) < 10_000_000


def test_summary_validates_against_the_documented_schema(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", degraded_spec()))
    document = json.loads(built.summary_path.read_text())
    summary = Summary.model_validate(document)  # extra="forbid": no undocumented field
    assert summary.schema_version == SCHEMA_VERSION
    assert summary.verdict.verdict == "DEGRADED" and summary.verdict.exit_code == 0
    assert [f.time_to_recover_s for f in summary.faults] == [10, 0]
    documented = set(re.findall(r"^\| `([a-z0-9_.\[\]]+)` \|", DOCS.read_text(), re.MULTILINE))
    assert set(document) <= documented
    for section in ("run", "verdict", "key_numbers", "phases", "audit"):
        for key in document[section]:
            assert f"{section}.{key}" in documented, f"{section}.{key} is not documented"
    for section in ("slos", "faults", "hints"):
        for key in Summary.model_fields[section].annotation.__args__[0].model_fields:  # type: ignore[union-attr]
            assert f"{section}[].{key}" in documented, f"{section}[].{key} is not documented"


def test_junit_has_one_case_per_slo_fault_and_the_audit(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", failed_spec()))
    root = ET.parse(built.junit).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"p95 all", "errors", "provider-a-down", "db-locks", "wallet audit"}
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    # the never-recovered fault owns its breaches: the fault fails, not the SLO
    assert failed == {"db-locks", "wallet audit"}
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "5" and suite.get("failures") == "2"
    audit_failure = cases["wallet audit"].find("failure")
    assert audit_failure is not None and "tx-000001" in (audit_failure.text or "")


def test_a_passing_run_has_no_failures(tmp_path: Path) -> None:
    from spikekit.analysis.synthetic import SyntheticRun

    built = build_report(write_synthetic_run(tmp_path / "run", SyntheticRun(duration_s=120)))
    assert built.summary.verdict.verdict == "PASSED"
    root = ET.parse(built.junit).getroot()
    assert root.get("failures") == "0"
    assert "PASSED" in built.html.read_text()


def test_summary_and_html_name_the_endpoints_a_fault_hurt(tmp_path: Path) -> None:
    built = build_report(write_synthetic_run(tmp_path / "run", cascading_spec()))
    (fault,) = built.summary.faults
    assert fault.hurt_endpoints == [
        "GET /api/lobby",
        "GET /api/wallet/balance",
        "POST /api/wallet/bet",
    ]
    html = built.html.read_text()
    assert "3 endpoints: GET /api/lobby, GET /api/wallet/balance, POST /api/wallet/bet" in html


def test_a_summary_without_hurt_endpoints_still_reads(tmp_path: Path) -> None:
    """Added within schema 1: a summary.json written before it still validates."""
    built = build_report(write_synthetic_run(tmp_path / "run", degraded_spec()))
    document = json.loads(built.summary_path.read_text())
    for fault in document["faults"]:
        del fault["hurt_endpoints"]
    assert [f.hurt_endpoints for f in Summary.model_validate(document).faults] == [[], []]
