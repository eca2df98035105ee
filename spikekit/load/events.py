"""Lifecycle hooks of a load run: the runner fires them, the dashboard, journal and chaos
schedule subscribe (no imports between them).

=================  ====================================  =================================
hook               argument                              fired
=================  ====================================  =================================
``started``        :class:`LoadStarted`                  when the shape starts (t = 0)
``second_elapsed`` :class:`~spikekit.load.recorder.SecondSummary`  once per final second
``incident``       :class:`~spikekit.load.result.GeneratorIncident`  a worker or the master
                                                         lost, the disk full (at once)
``ended``          :class:`~spikekit.load.result.LoadResult`       after the files are written
=================  ====================================  =================================

Listeners run on the thread that called :meth:`~spikekit.load.runner.LoadRunner.wait`; an
exception in a listener ends the run (the runner still stops every process).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spikekit.hooks import EventHook
from spikekit.load.result import GeneratorIncident, LoadResult
from spikekit.rundir.live import SecondSummary


@dataclass(frozen=True)
class LoadStarted:
    started_at: float  # Unix time of t = 0 (the run's clock for the journal and the chaos)
    workers: int
    planned_duration_s: float


@dataclass
class LoadEvents:
    started: EventHook[LoadStarted] = field(default_factory=EventHook)
    second_elapsed: EventHook[SecondSummary] = field(default_factory=EventHook)
    incident: EventHook[GeneratorIncident] = field(default_factory=EventHook)
    ended: EventHook[LoadResult] = field(default_factory=EventHook)
