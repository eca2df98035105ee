"""The watchdog's judgement of the toolkit's own faults, with a fake run (no processes)."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path

from spikekit.load.events import LoadEvents
from spikekit.load.result import GeneratorIncident, IncidentKind
from spikekit.load.watchdog import Watchdog, exit_text
from spikekit.processes import ManagedProcess


class FakeRun:
    """The run a watchdog watches: no master, no workers, stop() remembered."""

    def __init__(self) -> None:
        self.started_at: float | None = None
        self.stopped: list[str] = []

    @property
    def master(self) -> ManagedProcess | None:
        return None

    @property
    def workers(self) -> Sequence[ManagedProcess]:
        return ()

    def catch_up(self) -> bool:
        return False

    def killed_by_us(self, name: str) -> bool:
        return False

    def stop(self, reason: str) -> None:
        self.stopped.append(reason)


def test_exit_text_says_how_a_process_ended() -> None:
    assert exit_text(None) == "still running"
    assert exit_text(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_text(5) == "exited with code 5 (it could not write its files)"
    assert exit_text(1) == "exited with code 1"


def test_a_write_failure_stops_the_load_once(tmp_path: Path) -> None:
    run, events = FakeRun(), LoadEvents()
    fired: list[GeneratorIncident] = []
    events.incident.add_listener(fired.append)
    dog = Watchdog(run, tmp_path, network_timeout_s=2.0, events=events)
    dog.cannot_write("worker-0 could not write its records")
    dog.cannot_write("the Locust master could not write its files")
    assert dog.write_failed and fired == dog.incidents
    [incident] = dog.incidents
    assert incident.kind is IncidentKind.WRITE_FAILED and incident.subject == str(tmp_path)
    assert run.stopped == ["worker-0 could not write its records"]


def test_a_full_disk_is_said_so(tmp_path: Path) -> None:
    run = FakeRun()
    dog = Watchdog(run, tmp_path, 2.0, LoadEvents(), min_free_bytes=1 << 62)  # any disk: full
    dog.watch_disk()
    [incident] = dog.incidents
    assert incident.kind is IncidentKind.DISK_FULL
    assert run.stopped[0].startswith("the run folder's disk is full")


def test_a_remote_worker_lost_by_the_master_is_a_hole_for_every_player(tmp_path: Path) -> None:
    run = FakeRun()
    run.started_at = 1000.0
    dog = Watchdog(run, tmp_path, network_timeout_s=2.0, events=LoadEvents())
    dog.worker_lost_by_master(pid=0, name="worker-3", last_t=7, t=9.4)
    [incident] = dog.incidents
    assert incident.kind is IncidentKind.WORKER_LOST and incident.records_of == ()
    assert incident.t == 9.4 and incident.records_lost_from_ts == 1000.0 + 7 + 1 - 2.0
    assert "at t=9 s (no heartbeat; last second reported: 7)" in incident.detail
    assert not run.stopped
