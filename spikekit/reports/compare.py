"""Comparison of two runs: deltas of the numbers that matter, regressions beyond a tolerance.

A number that is worse when higher regresses when ``b > a * (1 + tolerance)`` and
the difference exceeds a small absolute floor (1 ms, 0.1 % error rate, 1 s), so
that noise around zero is not flagged. An SLO met in A and failed in B, a fault
recovered in A and not in B, an audit that passed in A and failed in B, and a
worse verdict are regressions whatever the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spikekit.reports.html import environment
from spikekit.reports.summary import Phase, Summary

VERDICT_RANK = {"PASSED": 0, "DEGRADED": 1, "FAILED": 2}
FLOOR = {"ms": 1.0, "ratio": 0.001, "s": 1.0, "rank": 0.5}


@dataclass(frozen=True)
class Delta:
    label: str
    unit: str  # "ms", "ratio", "s" or "rank"
    a: float | None
    b: float | None
    regression: bool
    note: str = ""

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


def _worse(a: float | None, b: float | None, unit: str, tolerance: float) -> bool:
    if a is None or b is None:
        return False
    return b > a * (1 + tolerance) and b - a > FLOOR[unit]


def _number(label: str, unit: str, a: float | None, b: float | None, tolerance: float) -> Delta:
    return Delta(label, unit, a, b, _worse(a, b, unit, tolerance))


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
        if slo_a.passed and not slo_b.passed:
            delta = Delta(delta.label, "s", delta.a, delta.b, True, "met → failed")
        deltas.append(delta)
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
        if fa.recovered and not fb.recovered:
            recover = Delta(
                recover.label, "s", recover.a, recover.b, True, f"{fa.outcome} → {fb.outcome}"
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
        )
    )
    return RunComparison(a=a, b=b, tolerance=tolerance, deltas=deltas)


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "\u2013"
    if unit == "ratio":
        return f"{value * 100:.2f} %"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.0f} s"
    return ""


def build_compare_html(comparison: RunComparison) -> str:
    rows = [
        (
            d.label,
            _format(d.a, d.unit),
            _format(d.b, d.unit),
            _format(d.change, d.unit) if d.unit != "rank" else "",
            d.note,
            d.regression,
        )
        for d in comparison.deltas
    ]
    return environment().get_template("compare.html.j2").render(c=comparison, rows=rows)


def write_compare_html(comparison: RunComparison, path: Path) -> Path:
    path.write_text(build_compare_html(comparison), encoding="utf-8")
    return path
