"""The journal on disk, and which faults a crashed run left on."""

from __future__ import annotations

from pathlib import Path

import pytest

from spikekit.chaos.revert import active_faults
from spikekit.errors import ChaosError
from spikekit.rundir.journal import (
    FaultInjected,
    FaultPlanned,
    FaultReverted,
    Journal,
    OtherEvent,
    RunEnded,
    RunStarted,
    read_journal,
)

IDS = {"fault": "network.latency", "target": "gateway-postgres"}


def _injected(fault_id: str, ts: float) -> FaultInjected:
    return FaultInjected(
        ts=ts,
        t=ts,
        fault_id=fault_id,
        **IDS,
        planned_t=ts,
        params={},
        revert={"kind": "none", "reason": "x"},
    )


def _reverted(fault_id: str, ts: float, ok: bool = True) -> FaultReverted:
    return FaultReverted(ts=ts, t=ts, fault_id=fault_id, **IDS, ok=ok)


def test_round_trip_keeps_every_event_and_field(tmp_path: Path) -> None:
    path = tmp_path / "run" / "journal.jsonl"
    events = [
        RunStarted(ts=1.0, t=0.0, scenario="smoke", planned_duration_s=60),
        FaultPlanned(
            ts=1.0,
            t=0.0,
            fault_id="a",
            **IDS,
            planned_t=5,
            duration_s=None,
            params={"latency_ms": 200, "codes": [500, 503]},
        ),
        _injected("a", 6.0),
        _reverted("a", 7.0),
        RunEnded(ts=8.0, t=7.0, status="completed"),
    ]
    with Journal(path) as journal:
        for event in events:
            journal.write(event)
    assert read_journal(path) == events


def test_a_line_cut_by_a_crash_is_skipped_and_unknown_events_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(
        '{"ts": 1, "t": 0, "event": "second_elapsed", "rps": 10}\n{"ts": 2, "t": 1, "eve'
    )
    [event] = read_journal(path)
    assert isinstance(event, OtherEvent) and event.model_extra == {"rps": 10}


def test_a_broken_line_in_the_middle_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('not json\n{"ts": 1, "t": 0, "event": "run_ended", "status": "x"}\n')
    with pytest.raises(ChaosError, match=r"journal\.jsonl:1"):
        read_journal(path)


def test_journal_stamps_t_from_its_start(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.jsonl", started=0.0) as journal:
        stamp = journal.stamp()
    assert stamp["t"] > 0 and stamp["ts"] > 1e9


def test_active_faults_are_injected_without_a_successful_revert() -> None:
    events = [
        _injected("done", 1),
        _reverted("done", 2),
        _injected("failed-revert", 3),
        _reverted("failed-revert", 4, ok=False),
        _injected("crashed", 5),
        _injected("twice", 6),
        _reverted("twice", 7),
        _injected("twice", 8),
    ]
    still_on = active_faults(events)
    assert [(e.fault_id, e.ts) for e in still_on] == [
        ("failed-revert", 3),
        ("crashed", 5),
        ("twice", 8),
    ]
