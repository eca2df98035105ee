"""Per fault: time to detect, mitigate and recover, peak degradation, error-budget burn.

Times are whole seconds on the per-second grid: a fault injected at ``t = 60.4``
starts in second 60. With ``B`` = "some SLO is breached, or the platform is stalled" at
a second (stalled: players in session and no request answered for ``recovery.stall_s``
seconds — a stalled platform produces no latency, and silence is not health) and
``stable_s`` = ``recovery.stable_s``:

- **detect**: first breached second in ``[inject, revert)``, minus ``inject``;
- **mitigate**: from that breach to the first second, still before the revert,
  that starts ``stable_s`` consecutive seconds without breach (failover);
- **recover**: from the revert to the first second that starts ``stable_s``
  consecutive seconds without breach, all before the *horizon* (the next
  fault's injection or the end of the run); otherwise "not recovered";
- the **impact window** runs from the injection to the recovery (or the horizon):
  degraded seconds, peak degradation and error-budget burn are counted in it;
- **failover** (``process.kill`` faults only: a replica killed, the others taking over):
  from the kill to the first second that starts ``stable_s`` consecutive seconds without
  a failed request, before the horizon (:func:`failover_seconds`); 0 when the players
  never saw an error, None when errors never stopped.

An end-of-run SLO (``unsettled_rounds``: one value, at the last second) is no fault's: it
is left out of ``B``, of a fault's breached SLOs and of its peak, and no impact window
excuses it (:func:`spikekit.analysis.verdict.judge_slos`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.rundir import FaultWindow, RunData
from spikekit.analysis.slo import SLOSeries, any_breach
from spikekit.rundir.journal import FaultSkipped
from spikekit.scenarios.slo import SLOMetric


class Outcome(StrEnum):
    NO_IMPACT = "no impact"  # no SLO breached, and stable after the revert
    MITIGATED = "mitigated"  # breached, back within SLO while the fault was still on
    RECOVERED = "recovered"  # breached, back within SLO after the revert
    NOT_RECOVERED = "not recovered"
    NOT_REVERTED = "not reverted"  # the journal has no revert for it


@dataclass(frozen=True)
class FaultResult:
    window: FaultWindow
    outcome: Outcome
    time_to_detect_s: int | None
    time_to_mitigate_s: int | None
    time_to_recover_s: int | None
    impact_start: int
    impact_end: int  # exclusive
    degraded_seconds: int
    breached_slos: tuple[str, ...]
    peak_slo: str | None
    peak_value: float | None
    peak_ratio: float | None  # value / threshold (threshold / value for a floor)
    error_budget_burn: float | None  # fraction of the run's error budget spent here
    failover_s: int | None = None  # process.kill only: the kill → errors stopped

    @property
    def recovered(self) -> bool:
        return self.outcome in (Outcome.NO_IMPACT, Outcome.MITIGATED, Outcome.RECOVERED)

    @property
    def detected(self) -> bool:
        return self.time_to_detect_s is not None


def fault_second(t: float) -> int:
    return max(math.floor(t + 1e-9), 0)


#: faults that take replicas away, after which the others must carry the load
FAILOVER_FAULTS = frozenset({"process.kill"})


def failover_seconds(failures: s.Floats, start: int, horizon: int, stable: int) -> int | None:
    """Seconds from ``start`` (the kill) to the first second in ``[start, horizon)`` that
    starts ``stable`` seconds without a failed request, or None when errors never stop."""
    at = s.first_stable(failures <= 0, start, horizon, stable)
    return None if at is None else at - start


def _peak(evaluations: list[SLOSeries], start: int, stop: int) -> tuple[str, float, float] | None:
    best: tuple[str, float, float] | None = None
    for evaluation in evaluations:
        worst = evaluation.worst(start, stop)
        if worst is None:
            continue
        ratio = evaluation.severity(worst)
        if best is None or ratio > best[2]:
            best = (evaluation.slo.name, worst, ratio)
    return best


def _error_budget_burn(
    run: RunData, evaluations: list[SLOSeries], start: int, stop: int
) -> float | None:
    budget_slo = next(
        (
            e.slo
            for e in evaluations
            if e.slo.metric is SLOMetric.ERROR_RATE and e.slo.endpoint == "*"
        ),
        None,
    )
    if budget_slo is None:
        return None
    rows = s.endpoint_rows(run.timeseries, "*")
    n = run.duration_s
    requests = s.per_second(rows, "requests", n)
    failures = s.per_second(rows, "failures", n)
    budget = budget_slo.threshold * float(requests.sum())
    if budget <= 0:
        return None
    return float(failures[start:stop].sum()) / budget


def analyse_fault(
    run: RunData,
    evaluations: list[SLOSeries],
    window: FaultWindow,
    horizon: int,
    breach: s.Bools | None = None,
) -> FaultResult:
    n = run.duration_s
    stable = run.recovery.stable_s
    breach = breaches(run, evaluations) if breach is None else breach
    ok = ~breach
    start = min(fault_second(window.injected_t), n)
    revert = n if window.reverted_t is None else min(fault_second(window.reverted_t), n)
    horizon = max(min(horizon, n), revert)

    hits = np.flatnonzero(breach[start:revert])
    detect_at = start + int(hits[0]) if len(hits) else None
    mitigate_at = None
    if detect_at is not None:
        mitigate_at = s.first_stable(ok, detect_at + 1, revert, stable)
    recover_at = None
    if window.reverted_t is not None:
        recover_at = s.first_stable(ok, revert, horizon, stable)

    if window.reverted_t is None:
        outcome = Outcome.NOT_REVERTED
    elif recover_at is None:
        outcome = Outcome.NOT_RECOVERED
    elif detect_at is None and not breach[start:recover_at].any():
        outcome = Outcome.NO_IMPACT
    elif mitigate_at is not None:
        outcome = Outcome.MITIGATED
    else:
        outcome = Outcome.RECOVERED

    impact_end = recover_at if recover_at is not None else horizon
    failover = None
    if window.fault in FAILOVER_FAULTS:
        failures = s.per_second(s.endpoint_rows(run.timeseries, "*"), "failures", n)
        failover = failover_seconds(failures, start, max(horizon, start + 1), stable)
    per_second = [e for e in evaluations if not e.slo.at_end]  # end-of-run SLOs: the run's
    breached_slos = tuple(e.slo.name for e in per_second if e.breached[start:impact_end].any())
    peak = _peak(per_second, start, impact_end)
    return FaultResult(
        window=window,
        outcome=outcome,
        time_to_detect_s=None if detect_at is None else detect_at - start,
        time_to_mitigate_s=None
        if mitigate_at is None or detect_at is None
        else mitigate_at - detect_at,
        time_to_recover_s=None if recover_at is None else recover_at - revert,
        impact_start=start,
        impact_end=impact_end,
        degraded_seconds=int(breach[start:impact_end].sum()),
        breached_slos=breached_slos,
        peak_slo=peak[0] if peak else None,
        peak_value=peak[1] if peak else None,
        peak_ratio=peak[2] if peak else None,
        error_budget_burn=_error_budget_burn(run, evaluations, start, impact_end),
        failover_s=failover,
    )


def stalled_seconds(run: RunData) -> s.Bools:
    """Seconds at which players in session have had no answer for ``recovery.stall_s`` s."""
    n = run.duration_s
    answered = s.per_second(s.endpoint_rows(run.timeseries, "*"), "requests", n)
    players = s.per_second(run.players, "actual_players", n)
    return s.stalled(answered, players, run.recovery.stall_s)


def breaches(run: RunData, evaluations: list[SLOSeries]) -> s.Bools:
    """``B``: the seconds at which some SLO is breached or the platform is stalled."""
    return any_breach(evaluations, run.duration_s) | stalled_seconds(run)


def analyse_faults(run: RunData, evaluations: list[SLOSeries]) -> list[FaultResult]:
    """One :class:`FaultResult` per injected fault, in injection order."""
    breach = breaches(run, evaluations)
    faults = run.faults
    results = []
    for index, window in enumerate(faults):
        later = [fault_second(f.injected_t) for f in faults[index + 1 :]]
        horizon = min(later) if later else run.duration_s
        results.append(analyse_fault(run, evaluations, window, horizon, breach))
    return results


@dataclass(frozen=True)
class NotInjected:
    """A fault the schedule skipped (``fault_skipped``): no detect or recover figures."""

    fault_id: str
    fault: str
    target: str
    planned_t: float
    waited_s: float
    reason: str  # "platform not steady"
    breaches: tuple[str, ...]


def faults_not_injected(run: RunData) -> list[NotInjected]:
    """Every fault the journal says was skipped, in journal order."""
    return [
        NotInjected(
            e.fault_id, e.fault, e.target, e.planned_t, e.waited_s, e.reason, tuple(e.breaches)
        )
        for e in run.events
        if isinstance(e, FaultSkipped)
    ]


def excused_seconds(results: list[FaultResult], n: int) -> s.Bools:
    """True inside every fault's impact window: breaches there are the fault's, not the SLO's."""
    mask = np.zeros(n, dtype=np.bool_)
    for result in results:
        mask[result.impact_start : result.impact_end] = True
    return mask
