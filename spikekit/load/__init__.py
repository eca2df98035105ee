"""The load engine: players as Locust users, a spike shape, a master and N workers.

The orchestrating process uses :func:`run_load` / :class:`LoadRunner` and never imports
gevent or Locust; the personas, the shape adapter and the Locust entry points
(``spikekit.load.master``, ``spikekit.load.worker``) run only in the Locust processes.

>>> from spikekit.load import LoadOptions, LoadEvents, run_load   # doctest: +SKIP
>>> events = LoadEvents()
>>> events.second_elapsed.add_listener(lambda s: print(s.t, s.actual_players, s.p95_ms))
>>> result = run_load(scenario, "http://127.0.0.1:8080", Path("runs/x"), LoadOptions(), events)
"""

from __future__ import annotations

from spikekit.hooks import EventHook
from spikekit.load.events import LoadEvents, LoadStarted
from spikekit.load.options import LoadOptions, WorkerPlan, plan_workers
from spikekit.load.recorder import TrackingError
from spikekit.load.result import LoadResult, LoadStatus, LoadTotals
from spikekit.load.runner import LoadRunner, run_load
from spikekit.load.target import check_target
from spikekit.rundir.live import SecondSummary

__all__ = [
    "EventHook",
    "LoadEvents",
    "LoadOptions",
    "LoadResult",
    "LoadRunner",
    "LoadStarted",
    "LoadStatus",
    "LoadTotals",
    "SecondSummary",
    "TrackingError",
    "WorkerPlan",
    "check_target",
    "plan_workers",
    "run_load",
]
