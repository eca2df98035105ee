"""Paced players' schedule (a pure function of time) and the coordinated-omission correction."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import pytest

from spikekit.load.pacing import Pacer


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def every(seconds: float) -> itertools.repeat[float]:
    return itertools.repeat(seconds)


def test_the_first_action_is_due_at_the_session_start() -> None:
    clock = Clock(100.0)
    assert Pacer(every(1.0).__next__, clock).due == 100.0
    assert Pacer(every(1.0).__next__, clock, start=42.0).due == 42.0


def test_the_interval_runs_from_start_to_start_not_from_the_answer() -> None:
    clock = Clock(0.0)
    pacer = Pacer(every(1.0).__next__, clock)
    clock.now = 0.3  # the action took 0.3 s
    assert pacer.wait() == pytest.approx(0.7)
    assert pacer.due == 1.0
    clock.now = 1.0
    assert pacer.lateness(clock.now) == 0.0
    clock.now = 1.1
    assert pacer.wait() == pytest.approx(0.9)
    assert pacer.due == 2.0


def test_a_late_player_acts_at_once_and_keeps_its_schedule() -> None:
    clock = Clock(0.0)
    pacer = Pacer(every(1.0).__next__, clock)
    clock.now = 3.5  # the first action's answer took 3.5 s
    waits = []
    for _ in range(4):
        waits.append(pacer.wait())
        clock.now += waits[-1]
        assert pacer.lateness(clock.now) == pytest.approx(max(0.0, clock.now - pacer.due))
        clock.now += 0.01  # each owed action is fast
    # due at 1, 2, 3: acted at once (back to back); due at 4: on schedule again
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(4.0 - 3.53)
    assert pacer.due == 4.0


def test_lateness_is_never_negative() -> None:
    pacer = Pacer(every(1.0).__next__, Clock(10.0))
    assert pacer.lateness(9.99) == 0.0  # sent a hair early (timer granularity)
    assert pacer.lateness(12.5) == pytest.approx(2.5)


def test_intervals_are_the_drawn_ones() -> None:
    rng, check = random.Random(5), random.Random(5)
    clock = Clock(0.0)
    pacer = Pacer(lambda: rng.uniform(2.0, 4.0), clock)
    expected = 0.0
    for _ in range(20):
        expected += check.uniform(2.0, 4.0)
        pacer.wait()
        assert pacer.due == pytest.approx(expected)
        assert 2.0 <= pacer.due - clock.now <= 4.0
        clock.now = pacer.due


# --- the correction, on a simulated stall ---------------------------------------------------


@dataclass(frozen=True)
class Action:
    due: float
    sent: float
    done: float
    recorded_ms: float  # what the recorder gets: response time + lateness

    @property
    def late_s(self) -> float:
        return self.sent - self.due


def answer_time(sent: float, stall: tuple[float, float], service_s: float) -> float:
    """A platform that answers in ``service_s``, but holds what arrives during the stall."""
    start, end = stall
    return (end if start <= sent < end else sent) + service_s


def play_paced(
    interval_s: float, stall: tuple[float, float], service_s: float, until: float
) -> list[Action]:
    """One paced player, as the persona drives its pacer: act, wait, act …"""
    clock = Clock(0.0)
    pacer = Pacer(every(interval_s).__next__, clock)
    actions = []
    while clock.now < until:
        sent = clock.now
        late_s = pacer.lateness(sent)
        done = answer_time(sent, stall, service_s)
        actions.append(Action(pacer.due, sent, done, (done - sent) * 1000.0 + late_s * 1000.0))
        clock.now = done
        clock.now += pacer.wait()
    return actions


def test_a_stall_makes_the_late_actions_record_at_least_their_lateness() -> None:
    stall = (10.2, 13.2)  # S = 3 s
    actions = play_paced(0.5, stall, service_s=0.01, until=20.0)
    # every action is recorded from when it was due: done - due
    for action in actions:
        assert action.recorded_ms == pytest.approx((action.done - action.due) * 1000.0)
        assert action.recorded_ms >= action.late_s * 1000.0
    # the schedule is kept: no intended start is skipped
    assert [a.due for a in actions] == pytest.approx([0.5 * i for i in range(len(actions))])
    # the actions due during the stall were sent late, and each is recorded to the stall's end
    during = [a for a in actions if stall[0] <= a.due < stall[1]]
    assert len(during) == 6  # due at 10.5, 11.0, …, 13.0
    held, *owed = during
    assert held.sent == held.due  # sent on time, into the stall: the answer holds the player
    for action in owed:
        assert action.sent >= stall[1]  # sent late, back to back once the stall is over
    for action in during:
        assert action.recorded_ms >= (stall[1] - action.due) * 1000.0
    # back on schedule once the owed actions are played
    assert all(a.late_s == 0.0 for a in actions if a.due >= stall[1] + 1.0)


def test_without_pacing_the_stall_shows_once_per_player() -> None:
    """The same player pausing after each answer: one slow sample, the rest omitted."""
    stall, now, recorded = (10.2, 13.2), 0.0, []
    while now < 20.0:
        done = answer_time(now, stall, 0.01)
        recorded.append((done - now) * 1000.0)
        now = done + 0.5
    paced = play_paced(0.5, stall, service_s=0.01, until=20.0)
    assert sum(ms >= 1000 for ms in recorded) == 1
    assert sum(a.recorded_ms >= 1000 for a in paced) == 4  # due at 10.5, 11.0, 11.5, 12.0
    assert len(paced) > len(recorded)
