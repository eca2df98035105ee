"""One call from a loaded run directory to every judgement the reports show."""

from __future__ import annotations

from dataclasses import dataclass, field

from spikekit.analysis.audit import AuditResult, audit_run
from spikekit.analysis.blast import BlastRadius, blast_radius
from spikekit.analysis.comparison import PhaseComparison, compare_phases
from spikekit.analysis.hints import BottleneckHint, bottleneck_hints, explain_failure
from spikekit.analysis.machine import beyond_machine
from spikekit.analysis.recovery import FaultResult, analyse_faults, excused_seconds
from spikekit.analysis.rundir import RunData
from spikekit.analysis.slo import SLOSeries, evaluate_slos
from spikekit.analysis.toolkit import NotReverted, not_reverted
from spikekit.analysis.verdict import SLOResult, Verdict, VerdictResult, decide, judge_slos


@dataclass(frozen=True)
class RunAnalysis:
    run: RunData
    evaluations: list[SLOSeries]
    slos: list[SLOResult]
    faults: list[FaultResult]
    blast: list[BlastRadius]  # one per fault, same order
    phases: PhaseComparison
    hints: list[BottleneckHint]
    audit: AuditResult
    verdict: VerdictResult
    not_reverted: list[NotReverted] = field(default_factory=list)


def analyse(run: RunData) -> RunAnalysis:
    evaluations = evaluate_slos(run)
    faults = analyse_faults(run, evaluations)
    excused = excused_seconds(faults, run.duration_s)
    slos = judge_slos(evaluations, excused)
    hints = bottleneck_hints(run)
    audit = audit_run(run)
    still_on = not_reverted(run)
    verdict = decide(
        slos,
        faults,
        audit,
        hints,
        run.aborted,
        run.abort_reason,
        incidents=run.incidents,
        still_on=still_on,
        beyond_machine=beyond_machine(run.meta.machine_fit),
    )
    return RunAnalysis(
        run=run,
        evaluations=evaluations,
        slos=slos,
        faults=faults,
        blast=blast_radius(run, faults),
        phases=compare_phases(run, excused),
        hints=explain_failure(run, hints, verdict.verdict is Verdict.FAILED),
        audit=audit,
        verdict=verdict,
        not_reverted=still_on,
    )
