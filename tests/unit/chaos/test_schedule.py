"""The scheduler's timing logic on a fake clock, run inline."""

from __future__ import annotations

from spikekit.chaos.schedule import InlineExecutor, ScheduledFault, Scheduler
from spikekit.rundir.journal import (
    FaultError,
    FaultInjected,
    FaultPlanned,
    FaultReverted,
    JournalEvent,
)
from tests.unit.chaos.fakes import FakeClock, FakeFault


def _run(entries: list[ScheduledFault], clock: FakeClock, **kwargs: object) -> list[JournalEvent]:
    events: list[JournalEvent] = []
    scheduler = Scheduler(
        entries,
        clock=clock,
        sinks=[events.append],
        executor=InlineExecutor(),
        **kwargs,  # type: ignore[arg-type]
    )
    scheduler.run()
    scheduler.revert_all()
    return events


def test_faults_are_injected_and_reverted_at_their_planned_times() -> None:
    clock = FakeClock()
    a, b = FakeFault("a", clock), FakeFault("b", clock)
    events = _run([ScheduledFault(a, 5.0, 10.0), ScheduledFault(b, 8.0, 1.0)], clock)
    assert a.log == [("inject", 5.0), ("release", 15.0)]
    assert b.log == [("inject", 8.0), ("release", 9.0)]  # overlapping a
    kinds = [(type(e).__name__, getattr(e, "fault_id", None)) for e in events]
    assert kinds == [
        ("FaultPlanned", "a"),
        ("FaultPlanned", "b"),
        ("FaultInjected", "a"),
        ("FaultInjected", "b"),
        ("FaultReverted", "b"),
        ("FaultReverted", "a"),
    ]
    injected = [e for e in events if isinstance(e, FaultInjected)]
    assert injected[0].planned_t == 5.0 and injected[0].started_t == 5.0
    assert injected[0].revert == {"kind": "test.noted", "name": "a"}
    reverted = [e for e in events if isinstance(e, FaultReverted)]
    assert reverted[0].planned_t == 9.0 and reverted[0].outcome == "undid b"


def test_a_fault_without_duration_lasts_until_the_run_ends_or_revert_all() -> None:
    clock = FakeClock()
    ended, open_ended = FakeFault("ended", clock), FakeFault("open", clock)
    _run([ScheduledFault(ended, 1.0)], clock, run_end_t=30.0)
    assert ended.log == [("inject", 1.0), ("release", 30.0)]
    clock.t = 0.0
    _run([ScheduledFault(open_ended, 2.0)], clock)
    assert open_ended.log == [("inject", 2.0), ("release", 2.0)]  # by revert_all


def test_a_failed_inject_is_journaled_and_never_reverted() -> None:
    clock = FakeClock()
    bad = FakeFault("bad", clock, fail=True)
    events = _run([ScheduledFault(bad, 1.0, 5.0)], clock)
    assert [type(e) for e in events] == [FaultPlanned, FaultError]
    error = events[1]
    assert isinstance(error, FaultError) and error.phase == "inject" and error.error == "refused"


def test_actions_put_a_revert_before_an_inject_due_at_the_same_time() -> None:
    clock = FakeClock()
    first, second = FakeFault("first", clock), FakeFault("second", clock)
    scheduler = Scheduler(
        [ScheduledFault(first, 0.0, 2.0), ScheduledFault(second, 2.0, 1.0)], clock=clock
    )
    plan = [(t, kind, e.fault.fault_id) for t, _, kind, e in scheduler.actions()]
    assert plan == [
        (0.0, "inject", "first"),
        (2.0, "revert", "first"),
        (2.0, "inject", "second"),
        (3.0, "revert", "second"),
    ]
    scheduler.revert_all()


def test_abort_journals_the_reason_and_stops_before_later_faults() -> None:
    clock = FakeClock()
    late = FakeFault("late", clock)
    events: list[JournalEvent] = []
    scheduler = Scheduler(
        [ScheduledFault(late, 10.0, 1.0)],
        clock=clock,
        sinks=[events.append],
        executor=InlineExecutor(),
    )
    scheduler.abort("error rate above 0.6 for 90s")
    scheduler.run()
    scheduler.revert_all()
    assert late.log == []
    assert [e.event for e in events] == ["run_aborted", "fault_planned"]
