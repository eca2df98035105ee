"""Time to detect, mitigate and recover on synthetic series with known answers.

The default synthetic SLOs use 1-second windows (p95 of all requests <= 200 ms,
errors <= 1 %), base latency 40 ms: a latency factor of 10 is a breach.
"""

from __future__ import annotations

from spikekit.analysis.recovery import Outcome
from spikekit.analysis.synthetic import Disturbance, SyntheticFault, SyntheticRun
from spikekit.analysis.verdict import Verdict
from spikekit.scenarios.slo import SLO, SLOMetric

from .conftest import Analyse

FAULT = SyntheticFault("provider-down", start_s=100.0, end_s=130.0)


def slow(start: int, end: int) -> Disturbance:
    return Disturbance(start, end, latency_factor=10.0)


def test_recovery_exactly_at_37_s(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(faults=(FAULT,), disturbances=(slow(105, 167),)))
    fault = result.faults[0]
    assert fault.outcome is Outcome.RECOVERED
    assert fault.time_to_detect_s == 5
    assert fault.time_to_mitigate_s is None
    assert fault.time_to_recover_s == 37
    assert fault.degraded_seconds == 62
    assert fault.breached_slos == ("p95 all",)
    assert fault.peak_slo == "p95 all" and fault.peak_ratio is not None and fault.peak_ratio > 1.5
    assert result.verdict.verdict is Verdict.DEGRADED
    assert result.verdict.exit_code == 0


def test_detect_time_is_exact_from_a_fractional_injection(analysed: Analyse) -> None:
    fault = SyntheticFault("db-locks", start_s=100.4, end_s=150.0)
    result = analysed(SyntheticRun(faults=(fault,), disturbances=(slow(112, 150),)))
    assert result.faults[0].time_to_detect_s == 12
    assert result.faults[0].time_to_recover_s == 0


def test_never_recovered_fails_the_run(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(faults=(FAULT,), disturbances=(slow(105, 300),)))
    fault = result.faults[0]
    assert fault.outcome is Outcome.NOT_RECOVERED
    assert not fault.recovered
    assert fault.time_to_recover_s is None
    assert fault.degraded_seconds == 300 - 105
    assert result.verdict.verdict is Verdict.FAILED
    assert result.verdict.exit_code == 1
    assert "provider-down" in result.verdict.paragraph


def test_mitigated_while_the_fault_is_still_active(analysed: Analyse) -> None:
    long_fault = SyntheticFault("cache-flush", start_s=100.0, end_s=160.0)
    result = analysed(SyntheticRun(faults=(long_fault,), disturbances=(slow(103, 120),)))
    fault = result.faults[0]
    assert fault.outcome is Outcome.MITIGATED
    assert fault.time_to_detect_s == 3
    assert fault.time_to_mitigate_s == 17
    assert fault.time_to_recover_s == 0


def flaps(start: int, stop: int, every: int) -> tuple[Disturbance, ...]:
    return tuple(slow(t, t + 1) for t in range(start, stop, every))


def test_flapping_does_not_count_as_recovered(analysed: Analyse) -> None:
    # back within SLO for 5 s, breached for 1 s, again and again: never 10 s stable
    result = analysed(SyntheticRun(faults=(FAULT,), disturbances=flaps(105, 300, 6)))
    assert result.faults[0].outcome is Outcome.NOT_RECOVERED
    assert result.verdict.verdict is Verdict.FAILED


def test_flapping_then_settling_recovers_after_the_last_flap(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(faults=(FAULT,), disturbances=flaps(105, 200, 6)))
    last_flap = max(range(105, 200, 6))
    assert result.faults[0].time_to_recover_s == last_flap + 1 - 130


def test_a_fault_without_effect_has_no_impact(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(faults=(FAULT,)))
    fault = result.faults[0]
    assert fault.outcome is Outcome.NO_IMPACT
    assert fault.time_to_detect_s is None
    assert fault.time_to_recover_s == 0
    assert fault.degraded_seconds == 0
    assert result.verdict.verdict is Verdict.PASSED


def test_a_fault_never_reverted(analysed: Analyse) -> None:
    fault = SyntheticFault("stuck", start_s=100.0, end_s=None)
    result = analysed(SyntheticRun(faults=(fault,), disturbances=(slow(101, 110),)))
    assert result.faults[0].outcome is Outcome.NOT_REVERTED
    assert result.verdict.exit_code == 1


def test_a_rolling_window_keeps_the_breach_until_the_window_is_clean(analysed: Analyse) -> None:
    slo = SLO(name="p95 5s", metric=SLOMetric.LATENCY_P95, threshold=200, window_s=5)
    spec = SyntheticRun(
        slos=(slo,), faults=(FAULT,), disturbances=(Disturbance(105, 140, latency_factor=100),)
    )
    # the window [t-4, t] still holds second 139 at t=143 (a 4000 ms second): clean from 144
    assert analysed(spec).faults[0].time_to_recover_s == 144 - 130


def test_error_budget_burn_counts_the_fault_failures(analysed: Analyse) -> None:
    spec = SyntheticRun(faults=(FAULT,), disturbances=(Disturbance(100, 130, error_rate=0.2),))
    result = analysed(spec)
    fault = result.faults[0]
    assert fault.breached_slos == ("errors",)
    everything = result.run.timeseries[result.run.timeseries["endpoint"] == "*"]
    failures = everything["failures"].sum()
    assert fault.error_budget_burn is not None
    assert abs(fault.error_budget_burn - failures / (0.01 * everything["requests"].sum())) < 1e-9


def test_a_breach_outside_any_fault_fails_the_slo(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(disturbances=(slow(200, 210),)))
    (p95, errors) = result.slos
    assert not p95.passed and p95.unexcused_seconds == 10 and p95.first_unexcused_t == 200
    assert errors.passed
    assert result.verdict.verdict is Verdict.FAILED


def silent(start: int, end: int) -> Disturbance:
    return Disturbance(start, end, silent=True)


def test_a_platform_that_answers_nothing_is_not_healthy(analysed: Analyse) -> None:
    # no answer at all from 105 to 145 (the revert is at 130): no latency, no errors
    result = analysed(SyntheticRun(faults=(FAULT,), disturbances=(silent(105, 145),)))
    fault = result.faults[0]
    assert fault.outcome is Outcome.RECOVERED  # not "no impact"
    assert fault.time_to_detect_s == 14  # silent since 105: stalled from 105 + 10 - 1
    assert fault.time_to_recover_s == 15  # answers again at 145
    assert fault.degraded_seconds == 145 - 114


def test_silence_that_lasts_past_the_run_is_not_recovered(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(faults=(FAULT,), disturbances=(silent(120, 300),)))
    assert result.faults[0].outcome is Outcome.NOT_RECOVERED
    assert result.verdict.verdict is Verdict.FAILED


def test_a_short_silence_is_not_a_stall(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(faults=(FAULT,), disturbances=(silent(105, 113),)))
    assert result.faults[0].outcome is Outcome.NO_IMPACT
