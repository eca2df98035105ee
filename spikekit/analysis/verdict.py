"""The verdict: PASSED / DEGRADED / FAILED, a plain-language paragraph and the exit code.

The exit code is stated in the one table, :class:`spikekit.exit_codes.ExitCode`.

- an SLO **fails** when it is breached outside every fault's impact window (the
  platform broke under load alone, or stayed broken after a fault); an end-of-run SLO
  (``unsettled_rounds``) fails whenever its one value is breached;
- a fault **fails** when it was not recovered (or never reverted);
- **FAILED**: an SLO, a fault recovery or the wallet audit failed (exit 1), or the
  run was aborted (exit 3);
- **DEGRADED**: nothing failed, but SLOs were breached while faults were active
  and recovered within the policy (exit 0);
- **PASSED**: no SLO breached at all, the audit passed (exit 0).

A load generator that was overloaded makes the run *inconclusive*: the verdict
stands but the paragraph says the numbers may be the generator's. So does a fault of
the toolkit itself (a Locust worker lost: its data has a hole; a fault the run could
not revert: its recovery is not judged, it is not counted as failed; wallet entries
that only the toolkit's lost records could explain: ``inconclusive``, not a failure).
Each reason is kept in ``inconclusive_reasons``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from spikekit.analysis import series as s
from spikekit.analysis.audit import AuditResult, CheckStatus
from spikekit.analysis.hints import BottleneckHint
from spikekit.analysis.recovery import FaultResult
from spikekit.analysis.rundir import Incident
from spikekit.analysis.slo import SLOSeries
from spikekit.analysis.toolkit import NotReverted, incident_text
from spikekit.exit_codes import ExitCode


class Verdict(StrEnum):
    PASSED = "PASSED"
    DEGRADED = "DEGRADED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class SLOResult:
    series: SLOSeries
    breached_seconds: int
    unexcused_seconds: int  # breached outside every fault's impact window
    first_unexcused_t: int | None
    worst_value: float | None

    @property
    def passed(self) -> bool:
        return self.unexcused_seconds == 0


@dataclass(frozen=True)
class VerdictResult:
    verdict: Verdict
    exit_code: ExitCode  # OK, FAILED or ABORTED
    aborted: bool
    conclusive: bool
    paragraph: str
    inconclusive_reasons: tuple[str, ...] = field(default=())
    #: a FAILED run whose peak was beyond this machine's bundled platform: why it may be
    #: the machine's failure (:mod:`spikekit.analysis.machine`); the exit code is the same
    beyond_machine: str | None = None


def judge_slos(evaluations: list[SLOSeries], excused: s.Bools) -> list[SLOResult]:
    results = []
    for evaluation in evaluations:
        # an end-of-run SLO judges the whole run: no fault's impact window excuses it
        unexcused = evaluation.breached if evaluation.slo.at_end else evaluation.breached & ~excused
        hits = unexcused.nonzero()[0]
        results.append(
            SLOResult(
                series=evaluation,
                breached_seconds=int(evaluation.breached.sum()),
                unexcused_seconds=int(unexcused.sum()),
                first_unexcused_t=int(hits[0]) if len(hits) else None,
                worst_value=evaluation.worst(),
            )
        )
    return results


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def decide(
    slos: list[SLOResult],
    faults: list[FaultResult],
    audit: AuditResult,
    hints: list[BottleneckHint],
    aborted: bool,
    abort_reason: str | None = None,
    incidents: Sequence[Incident] = (),
    still_on: Sequence[NotReverted] = (),
    beyond_machine: str | None = None,
) -> VerdictResult:
    failed_slos = [r for r in slos if not r.passed]
    # a fault whose revert failed is the toolkit's problem: not judged, not a failure
    failed_faults = [f for f in faults if not f.recovered and f.window.revert_ok is not False]
    degraded = any(r.breached_seconds for r in slos)
    reasons: list[str] = []
    if any(h.makes_inconclusive for h in hints):
        reasons.append("the load generator was overloaded")
    reasons += [f"toolkit fault at {incident_text(i)}" for i in incidents]
    reasons += [f"fault '{f.fault_id}' could not be reverted" for f in still_on if f.reason]
    if audit.inconclusive:
        reasons.append("; ".join(x.detail for x in audit.inconclusive))
    conclusive = not reasons

    if aborted or failed_slos or failed_faults or audit.status is CheckStatus.FAILED:
        verdict = Verdict.FAILED
    elif degraded:
        verdict = Verdict.DEGRADED
    else:
        verdict = Verdict.PASSED

    sentences: list[str] = []
    if aborted:
        sentences.append(
            f"The run was aborted before its end ({abort_reason or 'no reason given'})."
        )
    if verdict is Verdict.PASSED:
        sentences.append("The platform met every SLO for the whole run.")
    elif verdict is Verdict.DEGRADED:
        sentences.append(
            "The platform got worse while faults were active but met its SLOs again "
            "after each of them."
        )
    for r in failed_slos:
        if r.series.slo.at_end:  # one value, at the last second
            sentences.append(
                f"SLO '{r.series.slo.name}' was breached at the end of the run "
                f"({r.worst_value or 0:g} against a threshold of {r.series.slo.threshold:g})."
            )
            continue
        sentences.append(
            f"SLO '{r.series.slo.name}' was breached for {_plural(r.unexcused_seconds, 'second')} "
            f"outside any fault (first at t={r.first_unexcused_t} s)."
        )
    if faults:
        recovered = [f for f in faults if f.recovered]
        sentences.append(f"{len(recovered)} of {_plural(len(faults), 'fault')} recovered.")
    for f in failed_faults:
        sentences.append(
            f"Fault '{f.window.fault_id}' ({f.window.fault} on {f.window.target}) "
            f"{f.outcome.value}."
        )
    named = [h for h in hints if not h.makes_inconclusive]
    if verdict is Verdict.FAILED and named:
        first = named[0]
        sentences.append(
            f"The first bottleneck hint: {first.kind.value} ({first.subject}) "
            f"from t={first.first_t} s."
        )
    if audit.status is CheckStatus.FAILED:
        bad = [x.name for x in audit.findings if x.status is CheckStatus.FAILED]
        sentences.append(f"The wallet audit failed: {', '.join(bad)}.")
    elif audit.status is CheckStatus.PASSED:
        sentences.append("The wallet audit found every acknowledged transaction where it belongs.")
    if audit.skipped:
        sentences.append(f"Not audited: {'; '.join(x.detail for x in audit.skipped)}.")
    for incident in incidents:
        sentences.append(f"The toolkit itself failed at {incident_text(incident)}.")
    for x in audit.inconclusive:
        sentences.append(f"Wallet audit: {x.detail}.")
    for fault in still_on:
        sentences.append(f"{fault.text()}.")
    beyond_machine = beyond_machine if verdict is Verdict.FAILED else None
    if beyond_machine:
        sentences.append(beyond_machine)
    if any(h.makes_inconclusive for h in hints):
        sentences.append(
            "The load generator was overloaded, so this run is inconclusive: "
            "the measured latency may be the generator's, not the platform's."
        )
    elif not conclusive:
        sentences.append(
            "This run is inconclusive: the toolkit lost part of what it measures, so the "
            "numbers above are not the whole platform's."
        )

    if aborted:
        code = ExitCode.ABORTED
    elif verdict is Verdict.FAILED:
        code = ExitCode.FAILED
    else:
        code = ExitCode.OK
    paragraph = " ".join(sentences)
    return VerdictResult(
        verdict, code, aborted, conclusive, paragraph, tuple(reasons), beyond_machine
    )
