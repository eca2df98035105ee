"""The drain after the load ends once the platform has stayed quiet, not after a fixed wait."""

from __future__ import annotations

from spikekit.reference_platform.quiet import Activity, QuietWatch


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_quiet_only_after_the_same_idle_activity_for_quiet_s() -> None:
    clock = Clock()
    watch = QuietWatch(quiet_s=1.0, clock=clock)
    idle = Activity(ledger_head=10, outbox=0, stream=0)
    assert not watch.quiet(idle)  # the first look starts the count
    clock.now = 0.6
    assert not watch.quiet(idle)
    clock.now = 1.0
    assert watch.quiet(idle)


def test_a_growing_ledger_a_backlog_or_an_unreadable_platform_restart_the_count() -> None:
    clock = Clock()
    watch = QuietWatch(quiet_s=1.0, clock=clock)
    assert not watch.quiet(Activity(10, 0, 0))
    clock.now = 0.9
    assert not watch.quiet(Activity(11, 0, 0))  # a late write landed: count again
    clock.now = 1.5
    assert not watch.quiet(Activity(11, 0, 0))
    clock.now = 1.95
    assert watch.quiet(Activity(11, 0, 0))
    for busy in (
        Activity(11, 0, 3),
        Activity(11, 2, 0),
        None,
    ):  # a deposit waits, an event, no answer
        clock.now += 5
        assert not watch.quiet(busy)
        clock.now += 5
        assert not watch.quiet(Activity(11, 0, 0))  # quiet again: counted from here
        clock.now += 0.5
        assert not watch.quiet(Activity(11, 0, 0))
