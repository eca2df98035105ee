"""Comparison of two runs: deltas of the numbers that matter, regressions beyond a tolerance.

A number that is worse when higher regresses when ``b > a * (1 + tolerance)`` and
the difference exceeds a small absolute floor (1 ms, 0.1 % error rate, 1 s), so
that noise around zero is not flagged. An SLO met in A and failed in B, a fault
recovered in A and not in B, an audit that passed in A and failed in B, a fault
that hurt more endpoints in B than in A, and a worse verdict are regressions
whatever the tolerance.

Improvements mirror regressions: a number improves when ``a > b * (1 + tolerance)``
beyond the same floor, and the opposite transitions (failed → met, not recovered →
recovered, audit failed → passed, fewer endpoints hurt, a better verdict) are
improvements. They are shown, never gate: the exit code depends on regressions only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from spikekit.reports.html import environment
from spikekit.reports.summary import FaultSummary, Phase, Summary

VERDICT_RANK = {"PASSED": 0, "DEGRADED": 1, "FAILED": 2}
FLOOR = {"ms": 1.0, "ratio": 0.001, "s": 1.0, "rank": 0.5, "count": 0.5}


@dataclass(frozen=True)
class Delta:
    label: str
    unit: str  # "ms", "ratio", "s", "count" or "rank"
    a: float | None
    b: float | None
    regression: bool
    note: str = ""
    improvement: bool = False

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass(frozen=True)
class RunComparison:
    a: Summary
    b: Summary
    tolerance: float
    deltas: list[Delta]

    @property
    def regressions(self) -> list[Delta]:
        return [d for d in self.deltas if d.regression]

    @property
    def improvements(self) -> list[Delta]:
        return [d for d in self.deltas if d.improvement]


def _worse(a: float | None, b: float | None, unit: str, tolerance: float) -> bool:
    if a is None or b is None:
        return False
    return b > a * (1 + tolerance) and b - a > FLOOR[unit]


def _number(label: str, unit: str, a: float | None, b: float | None, tolerance: float) -> Delta:
    return Delta(
        label,
        unit,
        a,
        b,
        _worse(a, b, unit, tolerance),
        improvement=_worse(b, a, unit, tolerance),
    )


def _transition(delta: Delta, worse: bool, better: bool, note: str) -> Delta:
    """``delta`` flagged by a pass/fail transition (whatever the tolerance) when there is one."""
    if worse:
        return replace(delta, regression=True, improvement=False, note=note)
    if better:
        return replace(delta, regression=False, improvement=True, note=note)
    return delta


def _names(names: list[str]) -> str:
    return f"{len(names)} ({', '.join(names)})" if names else "0"


def _hurt(fa: FaultSummary, fb: FaultSummary) -> Delta:
    a, b = len(fa.hurt_endpoints), len(fb.hurt_endpoints)
    return Delta(
        f"fault {fa.fault_id}: endpoints hurt",
        "count",
        a,
        b,
        b > a,
        f"{_names(fa.hurt_endpoints)} → {_names(fb.hurt_endpoints)}",
        improvement=b < a,
    )


def _phase_deltas(name: str, a: Phase | None, b: Phase | None, tolerance: float) -> list[Delta]:
    if a is None or b is None:
        return []
    return [
        _number(f"{name} p95", "ms", a.p95_ms, b.p95_ms, tolerance),
        _number(f"{name} p99", "ms", a.p99_ms, b.p99_ms, tolerance),
        _number(f"{name} error rate", "ratio", a.error_rate, b.error_rate, tolerance),
    ]


def compare_summaries(a: Summary, b: Summary, tolerance: float = 0.1) -> RunComparison:
    deltas: list[Delta] = []
    rank_a, rank_b = VERDICT_RANK[a.verdict.verdict], VERDICT_RANK[b.verdict.verdict]
    deltas.append(
        Delta(
            "verdict",
            "rank",
            rank_a,
            rank_b,
            rank_b > rank_a,
            f"{a.verdict.verdict} → {b.verdict.verdict}",
            improvement=rank_b < rank_a,
        )
    )
    deltas += _phase_deltas("baseline", a.phases.baseline, b.phases.baseline, tolerance)
    deltas += _phase_deltas("spike", a.phases.spike, b.phases.spike, tolerance)
    deltas.append(
        _number(
            "overall error rate",
            "ratio",
            a.key_numbers.error_rate,
            b.key_numbers.error_rate,
            tolerance,
        )
    )
    slos_b = {o.name: o for o in b.slos}
    for slo_a in a.slos:
        slo_b = slos_b.get(slo_a.name)
        if slo_b is None:
            continue
        delta = _number(
            f"SLO {slo_a.name}: seconds breached outside faults",
            "s",
            slo_a.unexcused_breached_seconds,
            slo_b.unexcused_breached_seconds,
            tolerance,
        )
        worse, better = slo_a.passed and not slo_b.passed, slo_b.passed and not slo_a.passed
        note = f"{'met' if slo_a.passed else 'failed'} → {'met' if slo_b.passed else 'failed'}"
        deltas.append(_transition(delta, worse, better, note))
    faults_b = {f.fault_id: f for f in b.faults}
    for fa in a.faults:
        fb = faults_b.get(fa.fault_id)
        if fb is None:
            continue
        recover = _number(
            f"fault {fa.fault_id}: time to recover",
            "s",
            fa.time_to_recover_s,
            fb.time_to_recover_s,
            tolerance,
        )
        recover = _transition(
            recover,
            fa.recovered and not fb.recovered,
            fb.recovered and not fa.recovered,
            f"{fa.outcome} → {fb.outcome}",
        )
        deltas += [
            _number(
                f"fault {fa.fault_id}: time to detect",
                "s",
                fa.time_to_detect_s,
                fb.time_to_detect_s,
                tolerance,
            ),
            recover,
            _number(
                f"fault {fa.fault_id}: degraded seconds",
                "s",
                fa.degraded_seconds,
                fb.degraded_seconds,
                tolerance,
            ),
            _hurt(fa, fb),
        ]
    audit_regressed = a.audit.status != "failed" and b.audit.status == "failed"
    deltas.append(
        Delta(
            "wallet audit",
            "rank",
            None,
            None,
            audit_regressed,
            f"{a.audit.status} → {b.audit.status}",
            improvement=a.audit.status == "failed" and b.audit.status == "passed",
        )
    )
    return RunComparison(a=a, b=b, tolerance=tolerance, deltas=deltas)


def change_text(delta: Delta) -> str:
    """``A → B`` of a delta for a short table: its note, else both values formatted."""
    return delta.note or f"{_format(delta.a, delta.unit)} → {_format(delta.b, delta.unit)}"


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "\u2013"
    if unit == "ratio":
        return f"{value * 100:.2f} %"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.0f} s"
    if unit == "count":
        return f"{value:.0f}"
    return ""


def build_compare_html(comparison: RunComparison) -> str:
    rows = [
        (
            d.label,
            _format(d.a, d.unit),
            _format(d.b, d.unit),
            _format(d.change, d.unit) if d.unit != "rank" else "",
            d.note,
            "regression" if d.regression else "improved" if d.improvement else "ok",
        )
        for d in comparison.deltas
    ]
    return (
        environment()
        .get_template("compare.html.j2")
        .render(c=comparison, rows=rows, change_text=change_text)
    )


def write_compare_html(comparison: RunComparison, path: Path) -> Path:
    path.write_text(build_compare_html(comparison), encoding="utf-8")
    return path
