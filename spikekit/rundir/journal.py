"""``journal.jsonl``: one event per line, appended and fsynced one by one.

The events and their fields are those of ``docs/run-directory.md``. They are typed models
(:data:`JournalEvent`, a union on ``event``); whoever produces them (the chaos scheduler,
the runner) hands them to subscribers, and :class:`Journal` is the subscriber that puts
them on disk. Each line is flushed and fsynced before :meth:`Journal.write` returns, so
after a crash the journal holds every fault that was injected, with the revert record
needed to take it off.

:func:`read_journal` reads it back by the torn-line rule of :mod:`spikekit.rundir.jsonl`
(a last line cut short by a crash is skipped); the same journal format is written by
``spikekit chaos inject`` under the platform's state folder.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from spikekit.errors import ChaosError
from spikekit.rundir.jsonl import json_object, read_records

__all__ = [
    "EventSink",
    "FaultError",
    "FaultInjected",
    "FaultPlanned",
    "FaultReverted",
    "FaultSkipped",
    "FaultWaiting",
    "Journal",
    "JournalEvent",
    "OtherEvent",
    "PlatformEvent",
    "RunAbortedEvent",
    "RunEnded",
    "RunStarted",
    "ToolkitIncident",
    "parse_event",
    "read_journal",
]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ts: float  # Unix time
    t: float  # seconds since the run started
    event: str


class RunStarted(_Event):
    event: Literal["run_started"] = "run_started"
    scenario: str
    planned_duration_s: float


class _FaultEvent(_Event):
    fault_id: str
    fault: str  # type, e.g. network.latency
    target: str


class FaultPlanned(_FaultEvent):
    event: Literal["fault_planned"] = "fault_planned"
    planned_t: float
    duration_s: float | None
    params: dict[str, JsonValue]


class FaultInjected(_FaultEvent):
    event: Literal["fault_injected"] = "fault_injected"
    planned_t: float | None
    started_t: float | None = None  # when inject() was called (t is when it returned)
    params: dict[str, JsonValue]
    #: What is needed to revert it from the journal (a RevertRecord as JSON).
    revert: dict[str, JsonValue] | None = None


class FaultReverted(_FaultEvent):
    event: Literal["fault_reverted"] = "fault_reverted"
    ok: bool
    error: str | None = None
    planned_t: float | None = None  # when the schedule meant to revert it
    outcome: str | None = None  # e.g. "toxic removed", "toxic reset"
    source: Literal["live", "journal"] = "live"


class FaultError(_FaultEvent):
    event: Literal["fault_error"] = "fault_error"
    phase: Literal["inject", "revert"]
    error: str


class FaultWaiting(_FaultEvent):
    """A fault held back at its time: the platform was not within its steady-state SLOs
    (``breaches``, one line each); it waits up to ``within_s`` for them."""

    event: Literal["fault_waiting"] = "fault_waiting"
    planned_t: float
    within_s: float
    breaches: list[str]


class FaultSkipped(_FaultEvent):
    """A fault never injected: still not steady ``waited_s`` after its time."""

    event: Literal["fault_skipped"] = "fault_skipped"
    planned_t: float
    waited_s: float
    reason: str  # "platform not steady"
    breaches: list[str]


class RunAbortedEvent(_Event):
    event: Literal["run_aborted"] = "run_aborted"
    reason: str


class RunEnded(_Event):
    event: Literal["run_ended"] = "run_ended"
    status: str


class ToolkitIncident(_Event):
    """A fault of the toolkit itself (a Locust worker or master lost, the disk full,
    Toxiproxy dead): never the platform's. ``records_lost_from_ts`` (Unix time, None: no
    hole) is from when the load engine's records may miss transactions the platform
    applied; ``records_of`` the files (relative to the run directory) of the process whose
    players are concerned, empty for every player."""

    event: Literal["toolkit_incident"] = "toolkit_incident"
    kind: str  # worker_lost, master_lost, disk_full, write_failed, toxiproxy_lost
    subject: str
    detail: str
    records_lost_from_ts: float | None = None
    records_of: list[str] = []


class PlatformEvent(_Event):
    """A process of the bundled platform that exited on its own or by a fault (HAProxy, a
    service, PostgreSQL ...), or was started again: the platform's, not the toolkit's."""

    event: Literal["platform_event"] = "platform_event"
    kind: Literal["process_exited", "process_restarted"]
    subject: str  # the process, as in stack.json: haproxy, gateway-2, postgres ...
    detail: str
    pid: int
    exit_code: int | None = None  # negative: killed by that signal


class OtherEvent(_Event):
    """An event of another producer (the runner's own), kept as it is."""

    model_config = ConfigDict(extra="allow", frozen=True)


JournalEvent = (
    RunStarted
    | FaultPlanned
    | FaultInjected
    | FaultReverted
    | FaultError
    | FaultWaiting
    | FaultSkipped
    | RunAbortedEvent
    | RunEnded
    | ToolkitIncident
    | PlatformEvent
    | OtherEvent
)
#: Whoever wants the events: the journal, a dashboard, a test.
EventSink = Callable[[JournalEvent], None]

_MODELS: dict[str, type[_Event]] = {
    m.model_fields["event"].default: m
    for m in (RunStarted, FaultPlanned, FaultInjected, FaultReverted, FaultError, RunAbortedEvent)
}
_MODELS["run_ended"] = RunEnded
_MODELS["toolkit_incident"] = ToolkitIncident
_MODELS["platform_event"] = PlatformEvent
_MODELS["fault_waiting"] = FaultWaiting
_MODELS["fault_skipped"] = FaultSkipped


class Journal:
    """Appends events to ``path``; each is on disk (fsynced) when :meth:`write` returns.

    ``t`` of events built with :meth:`stamp` counts from ``started`` (a monotonic time,
    default: now). Thread-safe; use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: Path, *, started: float | None = None) -> None:
        self.path = path
        self.started = time.monotonic() if started is None else started
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def stamp(self) -> dict[str, float]:
        """``ts`` and ``t`` for an event happening now."""
        return {"ts": time.time(), "t": round(time.monotonic() - self.started, 6)}

    def write(self, event: JournalEvent) -> None:
        line = event.model_dump_json(exclude_none=False) + "\n"
        with self._lock:
            if self._file.closed:
                raise ChaosError("journal", f"{self.path} is closed")
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())

    __call__ = write  # a Journal is an EventSink

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def parse_event(data: dict[str, Any]) -> JournalEvent:
    model = _MODELS.get(str(data.get("event")), OtherEvent)
    return model.model_validate(data)  # type: ignore[return-value]


def parse_line(line: str) -> JournalEvent:
    return parse_event(json_object(line))


def read_journal(path: Path) -> list[JournalEvent]:
    """Every event of a journal, in order; a truncated last line (a crash) is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ChaosError("journal", f"cannot read {path}: {error.strerror or error}") from None
    found = read_records(text, parse_line)
    if found.bad:
        number, why = found.bad[0]
        raise ChaosError("journal", f"{path}:{number}: not a journal event ({why})")
    return found.records
