"""The steady-state gate of a fault, on the scheduler's fake clock: inject when steady,
wait (journaled) while not, skip after ``within`` with the breaches that kept it out."""

from __future__ import annotations

import pytest

from spikekit.chaos.resolve import available_for, refuse_unresolved, resolve_faults
from spikekit.chaos.schedule import (
    NOT_STEADY,
    InlineExecutor,
    ScheduledFault,
    Scheduler,
    SteadyGate,
)
from spikekit.chaos.steady import SteadyWindow
from spikekit.chaos.stop import SecondStats
from spikekit.errors import ConfigError, ScenarioError
from spikekit.rundir.journal import FaultInjected, FaultSkipped, FaultWaiting, JournalEvent
from spikekit.scenarios import parse_scenario
from spikekit.scenarios.slo import SLOMetric
from tests.unit.chaos.fakes import FakeClock, FakeFault


def _run(entries: list[ScheduledFault], clock: FakeClock) -> tuple[Scheduler, list[JournalEvent]]:
    events: list[JournalEvent] = []
    scheduler = Scheduler(entries, clock=clock, sinks=[events.append], executor=InlineExecutor())
    scheduler.run()
    scheduler.revert_all()
    return scheduler, events


def breaching_until(clock: FakeClock, steady_from: float) -> SteadyGate:
    def breaches() -> list[str]:
        return [] if clock.now() >= steady_from else ["error rate 0.091 > 0.05"]

    return SteadyGate(breaches, within_s=30.0)


def test_a_steady_platform_gets_the_fault_on_time() -> None:
    clock = FakeClock()
    fault = FakeFault("a", clock)
    _, events = _run([ScheduledFault(fault, 5.0, 10.0, breaching_until(clock, 0.0))], clock)
    assert fault.log == [("inject", 5.0), ("release", 15.0)]
    assert not [e for e in events if isinstance(e, FaultWaiting | FaultSkipped)]


def test_the_fault_waits_until_the_platform_is_steady_and_the_journal_says_so() -> None:
    clock = FakeClock()
    fault = FakeFault("a", clock)
    gate = breaching_until(clock, 12.0)
    _, events = _run([ScheduledFault(fault, 5.0, 60.0, gate)], clock)
    assert fault.log[0] == ("inject", 12.0)  # polled every second from t=5
    waiting = [e for e in events if isinstance(e, FaultWaiting)]
    assert len(waiting) == 1
    assert waiting[0].t == 5.0 and waiting[0].within_s == 30.0
    assert waiting[0].breaches == ["error rate 0.091 > 0.05"]
    injected = [e for e in events if isinstance(e, FaultInjected)]
    assert injected[0].planned_t == 5.0 and injected[0].started_t == 12.0


def test_still_not_steady_after_within_the_fault_is_skipped_with_its_breaches() -> None:
    clock = FakeClock()
    fault, other = FakeFault("a", clock), FakeFault("b", clock)
    scheduler, events = _run(
        [
            ScheduledFault(fault, 5.0, 60.0, breaching_until(clock, 1000.0)),
            ScheduledFault(other, 50.0, 5.0),
        ],
        clock,
    )
    assert fault.log == []  # never injected, so nothing to revert
    skipped = [e for e in events if isinstance(e, FaultSkipped)]
    assert len(skipped) == 1
    assert skipped[0].fault_id == "a" and skipped[0].reason == NOT_STEADY
    assert skipped[0].waited_s == 30.0 and skipped[0].t == 35.0
    assert skipped[0].breaches == ["error rate 0.091 > 0.05"]
    assert scheduler.runs["a"].skipped == ["error rate 0.091 > 0.05"]
    assert scheduler.runs["a"].injected_t is None
    assert other.log[0] == ("inject", 50.0)  # the next fault is not held up


def test_the_wait_never_goes_past_the_faults_planned_end() -> None:
    clock = FakeClock()
    fault = FakeFault("a", clock)
    _, events = _run([ScheduledFault(fault, 5.0, 8.0, breaching_until(clock, 1000.0))], clock)
    skipped = [e for e in events if isinstance(e, FaultSkipped)]
    assert fault.log == [] and skipped[0].waited_s == 8.0


SCENARIO = """
name: steady
description: a fault with a steady-state gate
load:
  model: closed
  stages:
    - {{duration: 60s, players: 5}}
slos:
  - {{name: error rate, metric: error_rate, threshold: 0.05}}
faults:
  - type: provider.latency
    at: 10s
    duration: 10s
    latency_ms: 300
    steady_state: {steady}
"""


def test_the_scenario_field_reads_slo_names_and_a_duration() -> None:
    scenario = parse_scenario(SCENARIO.format(steady="{slos: [error rate], within: 45s}"))
    steady = scenario.faults[0].steady_state
    assert steady is not None
    assert steady.slos == ["error rate"] and steady.within == 45.0
    assert "steady_state" not in scenario.faults[0].params()


@pytest.mark.parametrize(
    ("steady", "field"),
    [
        ("{slos: [], within: 30s}", "faults[0].steady_state.slos"),
        ("{slos: [error rate], within: soon}", "steady_state.within"),
        ("{slos: [error rate], wait: 30s}", "steady_state.wait"),
    ],
)
def test_a_bad_steady_state_names_the_field(steady: str, field: str) -> None:
    with pytest.raises(ScenarioError) as bad:
        parse_scenario(SCENARIO.format(steady=steady))
    assert field in str(bad.value)


def test_the_gate_judges_the_mean_of_the_trailing_live_seconds() -> None:
    scenario = parse_scenario(SCENARIO.format(steady="{slos: [error rate], within: 30s}"))
    steady = scenario.faults[0].steady_state
    assert steady is not None
    window = SteadyWindow()
    gate = window.gate(steady, scenario.slos)
    assert gate.within_s == 30.0
    assert gate.breaches() == []  # no live value yet: nothing to judge
    for t, rate in enumerate([0.2, 0.2, 0.2, 0.2, 0.2]):
        window.feed(SecondStats(t, {(SLOMetric.ERROR_RATE, "*"): rate}))
    assert gate.breaches() == ["error rate: 0.2 > 0.05"]
    for t in range(5, 9):  # four good seconds of five: mean 0.04
        window.feed(SecondStats(t, {(SLOMetric.ERROR_RATE, "*"): 0.0}))
    assert gate.breaches() == []


def test_a_steady_state_naming_an_unknown_slo_is_refused_before_the_run() -> None:
    scenario = parse_scenario(SCENARIO.format(steady="{slos: [wallet p99], within: 30s}"))
    have = available_for(scenario, toxiproxy_url=None, env={}, find_toxiproxy=lambda: None)
    with pytest.raises(ConfigError) as refused:
        refuse_unresolved(resolve_faults(scenario, have))
    assert "unknown: wallet p99; known: 'error rate'" in str(refused.value)
