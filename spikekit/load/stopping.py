"""Stopping a player between two actions, never with a request out.

Locust stops a user gracefully (``stop_timeout`` > 0): a user running its task is marked
*stopping* and ends once the task is done; a user *waiting* (thinking between two tasks) is
killed at once. At once is not immediate: gevent throws the ``GreenletExit`` into the
greenlet from a callback of the next turn of its event loop. When the user's think time ends
in the turn the stop is decided — likely on a starved CPU, where a turn takes milliseconds
and a ramp-down stops hundreds of users in one — the user wakes first, starts its next
action, sends the request and waits for the answer, and the kill lands there: the platform
received a request that no event ever recorded.

:class:`StopsBetweenActions` closes that window. A waiting user is marked *stopping* before
its kill is scheduled; should it wake before the kill lands, Locust's own check after the
wait (``TaskSet.wait``) ends it with ``StopUser`` instead of starting an action. A user
already stopping is left to finish (a ramp-down asked, then the final stop asks again).
"""

from __future__ import annotations

from locust import User
from locust.user.task import LOCUST_STATE_STOPPING, LOCUST_STATE_WAITING


class StopsBetweenActions(User):
    """A Locust user that a stop never catches between waking up and its next request."""

    abstract = True

    def stop(self, force: bool = False) -> bool:
        state = self._state
        if state == LOCUST_STATE_WAITING:
            self._state = LOCUST_STATE_STOPPING  # wakes before the kill lands: StopUser
            self._group.killone(self._greenlet)
            return True
        if state == LOCUST_STATE_STOPPING and not force:
            return False  # asked already: it ends after its action
        return bool(super().stop(force))
