"""Paced players: when each action is *due*, a pure function of time (no Locust, no gevent).

A paced player (``think_time: {pacing: true}``) keeps an intended start for every action:
the first at its session start, each next one at the previous intended start plus an
interval drawn in ``[min, max]``. After an action it waits until the next one is due, or
not at all when that moment has passed. The schedule is kept, never reset: after a stall
of ``S`` seconds the player owes about ``S / interval`` actions and plays them back to back
(one at a time, each as soon as the previous answer arrived) until it is on schedule again
— the intended starts a stalled platform made it miss are all played and all measured.

The first request of an action is measured from the action's intended start, not from when
the late request was sent (:meth:`Pacer.lateness`): ``latency = response time + (sent -
due)``. That is the correction for coordinated omission: a player held up by a stalled
answer does not hide the stall from the actions it should have started meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable

#: Key of Locust's request ``context`` carrying a paced request's lateness in milliseconds:
#: the recorder adds it to the response time (``worker_stats``).
LATE_MS = "spikekit_late_ms"


class Pacer:
    """The intended starts of one paced player's actions.

    ``draw`` gives the next interval in seconds, ``clock`` the time (monotonic seconds; the
    personas use ``time.perf_counter``, the clock their requests are timed by). The current
    action is due at :attr:`due`.
    """

    __slots__ = ("_clock", "_draw", "due")

    def __init__(
        self, draw: Callable[[], float], clock: Callable[[], float], start: float | None = None
    ) -> None:
        self._draw = draw
        self._clock = clock
        self.due = clock() if start is None else start  # the first action: the session start

    def wait(self) -> float:
        """After an action: schedule the next one and return the seconds until it is due
        (0 when it is already late)."""
        self.due += self._draw()
        return max(0.0, self.due - self._clock())

    def lateness(self, sent_at: float) -> float:
        """Seconds the current action's first request was sent after the action was due (0 if
        on time); ``sent_at`` is a reading of the same clock."""
        return max(0.0, sent_at - self.due)
