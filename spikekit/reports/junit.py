"""``junit.xml``: one test case per SLO, per fault recovery, and one for the wallet audit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from spikekit.reports.summary import Summary


def _case(
    suite: ET.Element, classname: str, name: str, failure: str | None, text: str = ""
) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0")
    if failure is not None:
        element = ET.SubElement(case, "failure", message=failure, type="failure")
        element.text = text or failure


def build_junit(summary: Summary) -> str:
    """The JUnit XML document for a run, as a string."""
    suites = ET.Element("testsuites", name=f"spikekit {summary.run.scenario}")
    suite = ET.SubElement(suites, "testsuite", name=f"spikekit.{summary.run.run_id}")
    for slo in summary.slos:
        failure = None
        if not slo.passed and slo.at_end:
            failure = (
                f"breached at the end of the run: {slo.worst_value}, threshold {slo.threshold}"
            )
        elif not slo.passed:
            failure = (
                f"breached for {slo.unexcused_breached_seconds} s outside fault windows "
                f"(first at t={slo.first_unexcused_t} s, worst {slo.worst_value}, "
                f"threshold {slo.threshold})"
            )
        _case(suite, "spikekit.slo", slo.name, failure)
    for fault in summary.faults:
        failure = None if fault.recovered else f"{fault.fault} on {fault.target}: {fault.outcome}"
        _case(suite, "spikekit.recovery", fault.fault_id, failure)
    audit_failure = None
    if summary.audit.status == "failed":
        bad = [c for c in summary.audit.checks if c.status == "failed"]
        audit_failure = "; ".join(f"{c.name}: {c.detail}" for c in bad)
        details = "\n".join(f"{c.name}: {', '.join(c.offending_ids)}" for c in bad)
        _case(suite, "spikekit.audit", "wallet audit", audit_failure, details)
    else:
        _case(suite, "spikekit.audit", "wallet audit", None)
    if summary.verdict.aborted:
        _case(suite, "spikekit.run", "run completed", f"aborted: {summary.run.abort_reason}")
    for still_on in summary.faults_not_reverted:
        _case(
            suite,
            "spikekit.revert",
            still_on.fault_id,
            f"not reverted: {still_on.reason}",
            f"revert it by hand: {still_on.revert_by_hand}",
        )
    if summary.verdict.beyond_machine:  # not a failure of its own: the verdict's context
        case = ET.SubElement(
            suite, "testcase", classname="spikekit.machine", name="peak within this machine"
        )
        case.set("time", "0")
        ET.SubElement(case, "skipped", message=summary.verdict.beyond_machine)
    for incident in summary.toolkit_incidents:
        case = ET.SubElement(
            suite, "testcase", classname="spikekit.toolkit", name=incident.kind, time="0"
        )
        ET.SubElement(case, "skipped", message=f"t={incident.t:.0f} s: {incident.detail}")
    cases = suite.findall("testcase")
    failures = sum(1 for c in cases if c.find("failure") is not None)
    for element in (suite, suites):
        element.set("tests", str(len(cases)))
        element.set("failures", str(failures))
        element.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        element.set("errors", "0")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(summary: Summary, path: Path) -> Path:
    path.write_text(build_junit(summary))
    return path
