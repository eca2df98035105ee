"""Revert from the journal: take off every fault a crashed run left on.

A fault is still on when its ``fault_injected`` has no later ``fault_reverted`` with
``ok: true`` (a failed revert leaves it on, so it is tried again). Each one is reverted
from the revert record in its ``fault_injected`` event, newest first, and the outcome is
appended to the same journal as ``fault_reverted`` with ``source: "journal"``.

    reverted = revert_from_journal(run_dir / "journal.jsonl", ChaosContext())
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from spikekit.chaos.base import parse_record
from spikekit.chaos.context import ChaosContext
from spikekit.errors import ChaosError, SpikekitError
from spikekit.reference_platform import state as state_file
from spikekit.rundir.journal import (
    FaultInjected,
    FaultReverted,
    Journal,
    JournalEvent,
    RunStarted,
    read_journal,
)
from spikekit.rundir.layout import JOURNAL, PLATFORM_DIR

__all__ = ["active_faults", "journal_path", "revert_from_journal"]


def journal_path(run_dir_or_journal: Path) -> Path:
    """The journal of a run folder, or the journal file itself."""
    path = run_dir_or_journal
    if path.is_dir():
        for candidate in (path / JOURNAL, path / "chaos" / JOURNAL):
            if candidate.exists():
                return candidate
        raise ChaosError("revert", f"no {JOURNAL} in {path}")
    if not path.exists():
        raise ChaosError("revert", f"no journal at {path}")
    return path


def active_faults(events: Sequence[JournalEvent]) -> list[FaultInjected]:
    """The injections without a successful revert after them, oldest first."""
    still_on: dict[str, list[FaultInjected]] = {}
    for event in events:
        if isinstance(event, FaultInjected):
            still_on.setdefault(event.fault_id, []).append(event)
        elif isinstance(event, FaultReverted) and event.ok and still_on.get(event.fault_id):
            still_on[event.fault_id].pop()
    return sorted((e for on in still_on.values() for e in on), key=lambda e: e.ts)


def _run_start_ts(events: Sequence[JournalEvent]) -> float | None:
    starts = [e for e in events if isinstance(e, RunStarted)]
    if starts:
        return starts[-1].ts
    return events[0].ts - events[0].t if events else None


def bundled_platform_gone(journal: Path) -> bool:
    """True when the journal belongs to a run whose bundled platform (``<run>/platform``)
    has no process left: every fault on it went away with it (a SIGKILLed run takes its
    platform along), so there is nothing to reach and nothing to revert."""
    state = state_file.load(journal.parent / PLATFORM_DIR) if journal.parent.is_dir() else None
    if state is None:
        return False
    processes = [state.supervisor, *state.processes()]
    return not any(p.ref().is_alive() for p in processes)


def revert_from_journal(path: Path, ctx: ChaosContext) -> list[FaultReverted]:
    """Revert every fault still on according to the journal at ``path``; returns outcomes."""
    events = read_journal(path)
    still_on = active_faults(events)
    if not still_on:
        return []
    gone = bundled_platform_gone(path)
    start_ts = _run_start_ts(events) or time.time()
    outcomes: list[FaultReverted] = []
    with Journal(path, started=time.monotonic() - (time.time() - start_ts)) as journal:
        for injected in reversed(still_on):
            ids = {
                "fault_id": injected.fault_id,
                "fault": injected.fault,
                "target": injected.target,
            }
            try:
                if gone:
                    outcome = "gone with the run's bundled platform (no process left)"
                elif injected.revert is None:
                    raise ChaosError(injected.fault_id, "the journal has no revert record for it")
                else:
                    outcome = parse_record(injected.revert).undo(ctx)
                event = FaultReverted(
                    **journal.stamp(), **ids, ok=True, outcome=outcome, source="journal"
                )
            except (SpikekitError, OSError) as error:
                event = FaultReverted(
                    **journal.stamp(), **ids, ok=False, error=str(error), source="journal"
                )
            journal.write(event)
            outcomes.append(event)
    return outcomes
