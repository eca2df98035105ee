"""Comparison of two runs: deltas of the figures that matter, each with its direction and
its uncertainty, and a headline that weighs what matters first (docs/comparing.md).

A figure regresses only when it got worse beyond all three of:

- the **tolerance** (relative: worse by more than ``tolerance`` of A's value);
- an absolute **floor** per kind of figure (:data:`FLOOR`: 5 ms, 0.2 percentage points,
  more than the 1 s resolution of the seconds, any whole count), so that noise around
  zero is not flagged;
- the run's own **noise**, where the figure has per-second data (phase p95, p99 and error
  rates, the overall error rate): the 95 % block-bootstrap interval of ``B − A``
  (:mod:`spikekit.reports.compare_stats`) must lie wholly on the worse side of zero.

Improvements mirror regressions. Each figure has a direction (:class:`Better`): most are
better lower; a fault's time to detect — injection to the platform's first SLO breach — is
better *higher* (the platform held its SLOs longer), and no breach at all is best; the
launch success rate is better higher. Pass/fail transitions (an SLO met → failed, a fault
recovered → not, the audit passed → failed, a better or worse verdict) flag whatever the
tolerance.

The headline (:func:`headline`) is decided by the first of verdict, wallet audit,
unrecovered faults and overall error rate that changed: a run that went from FAILED to
DEGRADED with a clean audit is IMPROVED, its smaller regressions still listed. Only when
those four are unchanged do the other figures decide: any regression → REGRESSED, else any
improvement → IMPROVED, else NO REGRESSION. The exit code is 1 for REGRESSED only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from spikekit.analysis.analyse import analyse
from spikekit.analysis.rundir import load_run
from spikekit.reports.compare_stats import (
    SEED,
    RunNoise,
    delta_interval,
    run_noise,
    why_no_interval,
)
from spikekit.reports.compare_text import change_text, headline_text, uncertainty_text, values
from spikekit.reports.html import environment
from spikekit.reports.summary import FaultSummary, Phase, Summary, build_summary

VERDICT_RANK = {"PASSED": 0, "DEGRADED": 1, "FAILED": 2}
FLOOR = {"ms": 5.0, "ratio": 0.002, "s": 1.0, "rank": 0.5, "count": 0.5}
#: The figures that decide the headline, most important first.
HEADLINE_TIERS = ("verdict", "wallet audit", "unrecovered faults", "overall error rate")


class Better(StrEnum):
    LOWER = "lower"
    HIGHER = "higher"


@dataclass(frozen=True)
class Delta:
    label: str
    unit: str  # "ms", "ratio", "s", "count" or "rank"
    a: float | None
    b: float | None
    regression: bool
    note: str = ""
    improvement: bool = False
    better: Better = Better.LOWER
    #: the 95 % interval of B − A from the runs' per-second data; None: the floor alone
    interval: tuple[float, float] | None = None
    #: why there is no interval (shown with the floor)
    without_interval: str = "no per-second data"

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass(frozen=True)
class Headline:
    word: str  # "REGRESSED", "IMPROVED" or "NO REGRESSION"
    decided_by: str | None  # the tier's label, "other figures", or None (nothing changed)

    @property
    def regressed(self) -> bool:
        return self.word == "REGRESSED"


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

    @property
    def headline(self) -> Headline:
        return headline(self.deltas)


def headline(deltas: list[Delta]) -> Headline:
    """The first headline tier that changed decides; then any other regression; then any
    other improvement (module docstring)."""
    by_label = {d.label: d for d in deltas}
    for tier in HEADLINE_TIERS:
        delta = by_label.get(tier)
        if delta is not None and delta.regression:
            return Headline("REGRESSED", tier)
        if delta is not None and delta.improvement:
            return Headline("IMPROVED", tier)
    if any(d.regression for d in deltas):
        return Headline("REGRESSED", "other figures")
    if any(d.improvement for d in deltas):
        return Headline("IMPROVED", "other figures")
    return Headline("NO REGRESSION", None)


def _beyond(x: float, y: float, unit: str, tolerance: float) -> bool:
    """``y`` is above ``x`` by more than the tolerance and the floor."""
    return y > x * (1 + tolerance) and y - x > FLOOR[unit]


@dataclass(frozen=True)
class _Context:
    tolerance: float
    noise: tuple[RunNoise, RunNoise] | None


def _number(
    ctx: _Context,
    label: str,
    unit: str,
    a: float | None,
    b: float | None,
    better: Better = Better.LOWER,
) -> Delta:
    interval = delta_interval(*ctx.noise, label) if ctx.noise is not None else None
    why = why_no_interval(*ctx.noise, label) if ctx.noise is not None else "no per-second data"
    if a is None or b is None:
        return Delta(label, unit, a, b, False, better=better, interval=interval)
    x, y, judged = a, b, interval
    complement = unit == "ratio" and better is Better.HIGHER
    if complement:  # a success rate: judged on its failures, lower is better
        x, y = 1 - a, 1 - b
        judged = None if interval is None else (-interval[1], -interval[0])
    rose, fell = _beyond(x, y, unit, ctx.tolerance), _beyond(y, x, unit, ctx.tolerance)
    if judged is not None:  # beyond the noise too: the whole interval on one side of 0
        rose, fell = rose and judged[0] > 0, fell and judged[1] < 0
    lower_is_better = better is Better.LOWER or complement
    worse, improved = (rose, fell) if lower_is_better else (fell, rose)
    return Delta(
        label,
        unit,
        a,
        b,
        worse,
        improvement=improved,
        better=better,
        interval=interval,
        without_interval=why,
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


def _detect(ctx: _Context, fa: FaultSummary, fb: FaultSummary) -> Delta:
    """Injection to the first SLO breach: later is better (the platform held its SLOs
    longer), and no breach at all (None) is best."""
    delta = _number(
        ctx,
        f"fault {fa.fault_id}: time to detect",
        "s",
        fa.time_to_detect_s,
        fb.time_to_detect_s,
        Better.HIGHER,
    )
    a, b = fa.time_to_detect_s, fb.time_to_detect_s
    return _transition(
        delta,
        a is None and b is not None,
        a is not None and b is None,
        f"{'no breach' if a is None else f'{a} s'} → {'no breach' if b is None else f'{b} s'}",
    )


def _fault_deltas(ctx: _Context, fa: FaultSummary, fb: FaultSummary) -> list[Delta]:
    name = f"fault {fa.fault_id}"
    recover = _transition(
        _number(ctx, f"{name}: time to recover", "s", fa.time_to_recover_s, fb.time_to_recover_s),
        fa.recovered and not fb.recovered,
        fb.recovered and not fa.recovered,
        f"{fa.outcome} → {fb.outcome}",
    )
    return [
        _detect(ctx, fa, fb),
        _number(
            ctx, f"{name}: time to mitigate", "s", fa.time_to_mitigate_s, fb.time_to_mitigate_s
        ),
        recover,
        _number(ctx, f"{name}: degraded seconds", "s", fa.degraded_seconds, fb.degraded_seconds),
        _hurt(fa, fb),
    ] + (
        [_number(ctx, f"{name}: failover", "s", fa.failover_s, fb.failover_s)]
        if fa.fault == "process.kill"
        else []
    )


def _phase_deltas(ctx: _Context, name: str, a: Phase | None, b: Phase | None) -> list[Delta]:
    if a is None or b is None:
        return []
    return [
        _number(ctx, f"{name} p95", "ms", a.p95_ms, b.p95_ms),
        _number(ctx, f"{name} p99", "ms", a.p99_ms, b.p99_ms),
        _number(ctx, f"{name} error rate", "ratio", a.error_rate, b.error_rate),
    ]


def _business_deltas(ctx: _Context, a: Summary, b: Summary) -> list[Delta]:
    ka, kb = a.key_numbers, b.key_numbers
    return [
        _number(
            ctx,
            "deposit completion p95",
            "ms",
            ka.deposit_completion_p95_ms,
            kb.deposit_completion_p95_ms,
        ),
        _number(
            ctx,
            "withdrawal completion p95",
            "ms",
            ka.withdrawal_completion_p95_ms,
            kb.withdrawal_completion_p95_ms,
        ),
        _number(
            ctx,
            "launch success rate",
            "ratio",
            ka.launch_success_rate,
            kb.launch_success_rate,
            Better.HIGHER,
        ),
        _number(
            ctx, "round rollback rate", "ratio", ka.round_rollback_rate, kb.round_rollback_rate
        ),
        _number(ctx, "unsettled rounds", "count", ka.unsettled_rounds, kb.unsettled_rounds),
    ]


def _verdict(a: Summary, b: Summary) -> Delta:
    rank_a, rank_b = VERDICT_RANK[a.verdict.verdict], VERDICT_RANK[b.verdict.verdict]
    return Delta(
        "verdict",
        "rank",
        rank_a,
        rank_b,
        rank_b > rank_a,
        f"{a.verdict.verdict} → {b.verdict.verdict}",
        improvement=rank_b < rank_a,
    )


def _audit(a: Summary, b: Summary) -> Delta:
    return Delta(
        "wallet audit",
        "rank",
        None,
        None,
        a.audit.status != "failed" and b.audit.status == "failed",
        f"{a.audit.status} → {b.audit.status}",
        improvement=a.audit.status == "failed" and b.audit.status == "passed",
    )


def _unrecovered(s: Summary) -> int:
    return s.key_numbers.faults - s.key_numbers.faults_recovered


def _slo_deltas(ctx: _Context, a: Summary, b: Summary) -> list[Delta]:
    slos_b = {o.name: o for o in b.slos}
    deltas = []
    for slo_a in a.slos:
        slo_b = slos_b.get(slo_a.name)
        if slo_b is None:
            continue
        delta = _number(
            ctx,
            f"SLO {slo_a.name}: seconds breached outside faults",
            "s",
            slo_a.unexcused_breached_seconds,
            slo_b.unexcused_breached_seconds,
        )
        worse, better = slo_a.passed and not slo_b.passed, slo_b.passed and not slo_a.passed
        note = f"{'met' if slo_a.passed else 'failed'} → {'met' if slo_b.passed else 'failed'}"
        deltas.append(_transition(delta, worse, better, note))
    return deltas


def compare_summaries(
    a: Summary,
    b: Summary,
    tolerance: float = 0.1,
    noise: tuple[RunNoise, RunNoise] | None = None,
) -> RunComparison:
    """Every compared figure of B against A; ``noise`` (the replicates of A and B) adds
    the uncertainty, without it every figure is judged on tolerance and floor alone."""
    ctx = _Context(tolerance, noise)
    deltas = [
        _verdict(a, b),
        _audit(a, b),
        _number(ctx, "unrecovered faults", "count", _unrecovered(a), _unrecovered(b)),
        _number(
            ctx, "overall error rate", "ratio", a.key_numbers.error_rate, b.key_numbers.error_rate
        ),
    ]
    deltas += _phase_deltas(ctx, "baseline", a.phases.baseline, b.phases.baseline)
    deltas += _phase_deltas(ctx, "spike", a.phases.spike, b.phases.spike)
    deltas += _business_deltas(ctx, a, b)
    deltas += _slo_deltas(ctx, a, b)
    faults_b = {f.fault_id: f for f in b.faults}
    for fa in a.faults:
        if (fb := faults_b.get(fa.fault_id)) is not None:
            deltas += _fault_deltas(ctx, fa, fb)
    return RunComparison(a=a, b=b, tolerance=tolerance, deltas=deltas)


def compare_runs(run_a: Path, run_b: Path, tolerance: float = 0.1) -> RunComparison:
    """Two run directories compared, with the noise of each run's per-second data."""
    analyses = [analyse(load_run(Path(run))) for run in (run_a, run_b)]
    noise = (run_noise(analyses[0], SEED), run_noise(analyses[1], SEED + 1))
    summaries = [build_summary(analysis) for analysis in analyses]
    return compare_summaries(summaries[0], summaries[1], tolerance, noise)


__all__ = ["build_compare_html", "change_text", "headline_text", "uncertainty_text"]


def build_compare_html(comparison: RunComparison) -> str:
    rows = [
        (
            d.label,
            *values(d),
            uncertainty_text(d),
            f"{d.better.value} is better" if d.unit != "rank" else "pass/fail",
            d.note,
            "regression" if d.regression else "improved" if d.improvement else "ok",
        )
        for d in comparison.deltas
    ]
    return (
        environment()
        .get_template("compare.html.j2")
        .render(
            c=comparison,
            top=comparison.headline,
            headline_text=headline_text(comparison),
            rows=rows,
            change_text=change_text,
            uncertainty_text=uncertainty_text,
        )
    )


def write_compare_html(comparison: RunComparison, path: Path) -> Path:
    path.write_text(build_compare_html(comparison), encoding="utf-8")
    return path
