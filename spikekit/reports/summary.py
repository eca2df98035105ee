"""``summary.json``: the machine-readable result of a run (schema in docs/summary-schema.md)."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from spikekit.analysis.analyse import RunAnalysis
from spikekit.analysis.business import business_figures
from spikekit.analysis.comparison import PhaseStats
from spikekit.analysis.recovery import faults_not_injected
from spikekit.reports.plan_summary import CapacitySummary, capacity_summary

SCHEMA_VERSION = 1
MAX_IDS = 100  # offending ids listed per audit check; the count is always complete


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunInfo(_Model):
    run_id: str
    scenario: str
    status: str
    abort_reason: str | None
    started_at: float
    ended_at: float | None
    duration_s: int
    scale: float
    duration_scale: float
    profile: str | None
    target: str
    spikekit_version: str
    machine: dict[str, str | int | float]


class VerdictInfo(_Model):
    verdict: str
    exit_code: int
    aborted: bool
    conclusive: bool
    paragraph: str
    # added in schema 1: absent from older summary.json files, read as []
    inconclusive_reasons: list[str] = Field(default_factory=list)
    # added in schema 1: a FAILED run beyond this machine's bundled platform (also in the
    # paragraph); absent from older summary.json files, read as null
    beyond_machine: str | None = None


class KeyNumbers(_Model):
    peak_target_players: int
    peak_actual_players: int
    total_requests: int
    total_failures: int
    error_rate: float | None
    faults: int
    faults_recovered: int
    worst_time_to_recover_s: int | None
    # added in schema 1, the business SLIs over the whole run (analysis/business.py):
    # absent from older summary.json files, read as null; null also when not measured
    deposit_completion_p95_ms: float | None = None
    withdrawal_completion_p95_ms: float | None = None
    launch_success_rate: float | None = None
    round_rollback_rate: float | None = None
    unsettled_rounds: int | None = None  # at the end of the run


class SLOSummary(_Model):
    name: str
    metric: str
    endpoint: str
    threshold: float
    window_s: int
    passed: bool
    breached_seconds: int
    unexcused_breached_seconds: int
    first_unexcused_t: int | None
    worst_value: float | None
    at_end: bool = False  # added in schema 1: judged once, at the end of the run


class FaultSummary(_Model):
    fault_id: str
    fault: str
    target: str
    injected_t: float
    reverted_t: float | None
    outcome: str
    recovered: bool
    time_to_detect_s: int | None
    time_to_mitigate_s: int | None
    time_to_recover_s: int | None
    degraded_seconds: int
    breached_slos: list[str]
    peak_slo: str | None
    peak_value: float | None
    peak_ratio: float | None
    error_budget_burn: float | None
    # added in schema 1: absent from older summary.json files, read as []
    hurt_endpoints: list[str] = Field(default_factory=list)
    revert_error: str | None = None  # added in schema 1: the run's revert failed
    failover_s: int | None = None  # added in schema 1: process.kill → errors stopped


class Phase(_Model):
    seconds: int
    target_players: float
    actual_players: float
    rps: float
    p95_ms: float | None
    p99_ms: float | None
    error_rate: float | None


class Phases(_Model):
    baseline: Phase | None
    spike: Phase | None


class Hint(_Model):
    kind: str
    subject: str
    first_t: int
    seconds: int
    detail: str
    # added within schema 1: absent from older summary.json files, read as null
    service: str | None = None
    replica: str | None = None
    phase: str | None = None
    last_t: int | None = None
    peak: float | None = None
    total: float | None = None
    share: float | None = None


class AuditCheckSummary(_Model):
    name: str
    source: str
    status: str
    detail: str
    offending_count: int
    offending_ids: list[str]


class AuditSummary(_Model):
    status: str
    checks: list[AuditCheckSummary]


class ToolkitIncidentSummary(_Model):
    t: float
    kind: str
    subject: str
    detail: str
    records_lost: bool  # the load engine's records have a hole from then on


class NotRevertedSummary(_Model):
    fault_id: str
    fault: str
    target: str
    reason: str
    revert_by_hand: str


class NotInjectedSummary(_Model):
    fault_id: str
    fault: str
    target: str
    planned_t: float
    waited_s: float
    reason: str  # "platform not steady"
    breaches: list[str]


class Summary(_Model):
    schema_version: int
    run: RunInfo
    verdict: VerdictInfo
    key_numbers: KeyNumbers
    slos: list[SLOSummary]
    faults: list[FaultSummary]
    phases: Phases
    hints: list[Hint]
    audit: AuditSummary
    # added in schema 1: absent from older summary.json files, read as []
    toolkit_incidents: list[ToolkitIncidentSummary] = Field(default_factory=list)
    faults_not_reverted: list[NotRevertedSummary] = Field(default_factory=list)
    # added in schema 1: faults skipped by their steady-state gate; absent = []
    faults_not_injected: list[NotInjectedSummary] = Field(default_factory=list)
    # added in schema 1: the capacity plan measured vs predicted (docs/sizing.md); absent
    # from older summary.json files, read as null
    capacity: CapacitySummary | None = None


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _phase(stats: PhaseStats | None) -> Phase | None:
    if stats is None:
        return None
    return Phase(
        seconds=stats.seconds,
        target_players=stats.target_players,
        actual_players=stats.actual_players,
        rps=stats.rps,
        p95_ms=_finite(stats.p95_ms),
        p99_ms=_finite(stats.p99_ms),
        error_rate=stats.error_rate,
    )


def build_summary(analysis: RunAnalysis) -> Summary:
    run, meta = analysis.run, analysis.run.meta
    everything = run.timeseries[run.timeseries["endpoint"] == "*"]
    requests = int(everything["requests"].sum())
    failures = int(everything["failures"].sum())
    recover_times = [
        f.time_to_recover_s for f in analysis.faults if f.time_to_recover_s is not None
    ]
    machine = {
        k: v for k, v in meta.machine.model_dump().items() if isinstance(v, str | int | float)
    }
    business = business_figures(run)
    return Summary(
        schema_version=SCHEMA_VERSION,
        run=RunInfo(
            run_id=meta.run_id,
            scenario=meta.scenario,
            status="aborted" if run.aborted else meta.status,
            abort_reason=run.abort_reason,
            started_at=meta.started_at,
            ended_at=meta.ended_at,
            duration_s=run.duration_s,
            scale=meta.scale,
            duration_scale=meta.duration_scale,
            profile=meta.profile,
            target=meta.target,
            spikekit_version=meta.spikekit_version,
            machine=machine,
        ),
        verdict=VerdictInfo(
            verdict=analysis.verdict.verdict.value,
            exit_code=int(analysis.verdict.exit_code),
            aborted=analysis.verdict.aborted,
            conclusive=analysis.verdict.conclusive,
            paragraph=analysis.verdict.paragraph,
            inconclusive_reasons=list(analysis.verdict.inconclusive_reasons),
            beyond_machine=analysis.verdict.beyond_machine,
        ),
        key_numbers=KeyNumbers(
            peak_target_players=int(run.players["target_players"].max()) if len(run.players) else 0,
            peak_actual_players=int(run.players["actual_players"].max()) if len(run.players) else 0,
            total_requests=requests,
            total_failures=failures,
            error_rate=failures / requests if requests else None,
            faults=len(analysis.faults),
            faults_recovered=sum(f.recovered for f in analysis.faults),
            worst_time_to_recover_s=max(recover_times) if recover_times else None,
            deposit_completion_p95_ms=_finite(business.deposit_completion_p95_ms),
            withdrawal_completion_p95_ms=_finite(business.withdrawal_completion_p95_ms),
            launch_success_rate=_finite(business.launch_success_rate),
            round_rollback_rate=_finite(business.round_rollback_rate),
            unsettled_rounds=business.unsettled_rounds,
        ),
        slos=[
            SLOSummary(
                name=r.series.slo.name,
                metric=r.series.slo.metric.value,
                endpoint=r.series.slo.endpoint,
                threshold=r.series.slo.threshold,
                window_s=r.series.slo.window_s,
                passed=r.passed,
                breached_seconds=r.breached_seconds,
                unexcused_breached_seconds=r.unexcused_seconds,
                first_unexcused_t=r.first_unexcused_t,
                worst_value=_finite(r.worst_value),
                at_end=r.series.slo.at_end,
            )
            for r in analysis.slos
        ],
        faults=[
            FaultSummary(
                fault_id=f.window.fault_id,
                fault=f.window.fault,
                target=f.window.target,
                injected_t=f.window.injected_t,
                reverted_t=f.window.reverted_t,
                outcome=f.outcome.value,
                recovered=f.recovered,
                time_to_detect_s=f.time_to_detect_s,
                time_to_mitigate_s=f.time_to_mitigate_s,
                time_to_recover_s=f.time_to_recover_s,
                degraded_seconds=f.degraded_seconds,
                breached_slos=list(f.breached_slos),
                peak_slo=f.peak_slo,
                peak_value=_finite(f.peak_value),
                peak_ratio=_finite(f.peak_ratio),
                error_budget_burn=_finite(f.error_budget_burn),
                hurt_endpoints=list(blast.hurt),
                revert_error=f.window.revert_error,
                failover_s=f.failover_s,
            )
            for f, blast in zip(analysis.faults, analysis.blast, strict=True)
        ],
        phases=Phases(
            baseline=_phase(analysis.phases.baseline), spike=_phase(analysis.phases.spike)
        ),
        hints=[
            Hint(
                kind=h.kind.value,
                subject=h.subject,
                first_t=h.first_t,
                seconds=h.seconds,
                detail=h.detail,
                service=h.service,
                replica=h.replica,
                phase=h.phase,
                last_t=h.last_t,
                peak=_finite(h.peak),
                total=_finite(h.total),
                share=_finite(h.share),
            )
            for h in analysis.hints
        ],
        audit=AuditSummary(
            status=analysis.audit.status.value,
            checks=[
                AuditCheckSummary(
                    name=c.name,
                    source=c.source,
                    status=c.status.value,
                    detail=c.detail,
                    offending_count=len(c.offending_ids),
                    offending_ids=list(c.offending_ids[:MAX_IDS]),
                )
                for c in analysis.audit.findings
            ],
        ),
        toolkit_incidents=[
            ToolkitIncidentSummary(
                t=round(i.t, 3),
                kind=i.kind,
                subject=i.subject,
                detail=i.detail,
                records_lost=i.has_hole,
            )
            for i in run.incidents
        ],
        faults_not_reverted=[
            NotRevertedSummary(
                fault_id=f.fault_id,
                fault=f.fault,
                target=f.target,
                reason=f.reason,
                revert_by_hand=f.by_hand,
            )
            for f in analysis.not_reverted
        ],
        faults_not_injected=[
            NotInjectedSummary(
                fault_id=f.fault_id,
                fault=f.fault,
                target=f.target,
                planned_t=f.planned_t,
                waited_s=f.waited_s,
                reason=f.reason,
                breaches=list(f.breaches),
            )
            for f in faults_not_injected(run)
        ],
        capacity=capacity_summary(run),
    )


def write_summary(summary: Summary, path: Path) -> Path:
    path.write_text(summary.model_dump_json(indent=2) + "\n")
    return path


def read_summary(path: Path) -> Summary:
    return Summary.model_validate_json(path.read_bytes())
