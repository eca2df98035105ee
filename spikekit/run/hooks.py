"""The documented lifecycle events of a run; the dashboard, tests and tools subscribe.

====================  ======================================  ==============================
hook                  argument                                fired
====================  ======================================  ==============================
``progress``          a line of text                          setup and teardown steps
``run_started``       :class:`RunStarted`                     at t = 0 (load, chaos, metrics)
``fault_event``       a journal event (planned, injected,     as the chaos engine acts
                      reverted, error, aborted)
``second_elapsed``    :class:`~spikekit.load.recorder.        once per second of load
                      SecondSummary`
``run_ended``         :class:`RunOutcome`                     after every output is written
====================  ======================================  ==============================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spikekit.hooks import EventHook
from spikekit.load.result import LoadResult
from spikekit.rundir.journal import JournalEvent
from spikekit.rundir.live import SecondSummary


@dataclass(frozen=True)
class RunStarted:
    run_dir: Path
    scenario: str
    target_url: str
    started_at: float  # Unix time of t = 0
    planned_duration_s: float
    workers: int
    faults: int


@dataclass(frozen=True)
class RunOutcome:
    run_dir: Path
    verdict: str  # PASSED, DEGRADED, FAILED
    paragraph: str
    exit_code: int
    aborted: str | None
    load: LoadResult | None
    outputs: tuple[Path, ...]  # report.html, summary.json, junit.xml (the run folder alone
    # when the report could not be written)
    #: Faults of the toolkit itself during the run, one line each (also in the paragraph).
    incidents: tuple[str, ...] = ()
    #: Faults the run could not revert, each with how to revert it by hand.
    not_reverted: tuple[str, ...] = ()


@dataclass
class RunHooks:
    progress: EventHook[str] = field(default_factory=EventHook)
    run_started: EventHook[RunStarted] = field(default_factory=EventHook)
    fault_event: EventHook[JournalEvent] = field(default_factory=EventHook)
    second_elapsed: EventHook[SecondSummary] = field(default_factory=EventHook)
    run_ended: EventHook[RunOutcome] = field(default_factory=EventHook)
