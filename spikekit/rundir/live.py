"""``load/live.jsonl``: what the Locust master tells the runner, one typed line per event.

The master writes it (:class:`LiveWriter`); the runner follows it while the load runs
(:class:`LiveTail`); salvage reads it whole after a kill (:func:`read_live`). Each line is
a JSON object whose ``event`` says which model it is (:data:`LiveLine`, a union on
``event``)::

    listening   port, expect_workers                 the master waits for its workers
    started     started_at (Unix s of t = 0), workers
    second      a SecondSummary                      once per final second, in order
    worker_lost worker, pid, t, last_t, workers_left Locust's heartbeat lost a worker
    ended       status, reason, files, late_reports, lost_workers

Torn lines follow :mod:`spikekit.rundir.jsonl`: the tail is held back while the master
lives, skipped after a kill; a line of an unknown ``event`` is ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import psutil
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, TypeAdapter

from spikekit.rundir.jsonl import Tail, json_object, read_records
from spikekit.rundir.layout import LIVE_NAME


def _nan_from_none(value: object) -> object:
    return math.nan if value is None else value


def _none_from_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


#: A float that is NaN in Python and ``null`` in JSON (a second without requests).
NanFloat = Annotated[
    float, BeforeValidator(_nan_from_none), PlainSerializer(_none_from_nan, return_type=Any)
]


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Listening(_Line):
    event: Literal["listening"] = "listening"
    port: int
    expect_workers: int


class Started(_Line):
    event: Literal["started"] = "started"
    started_at: float  # Unix time of the load's t = 0
    workers: int


class SecondSummary(_Line):
    """One final second: the ``second`` line, and what the runner's ``second_elapsed`` hook
    receives. Latencies are NaN (``null``) in a second without requests."""

    event: Literal["second"] = "second"
    t: int
    target_players: int
    actual_players: int
    requests: int
    failures: int
    generator_errors: int
    p50_ms: NanFloat
    p95_ms: NanFloat
    p99_ms: NanFloat
    max_ms: NanFloat
    generator_cpu_max: NanFloat = math.nan
    endpoints: dict[str, tuple[int, int, NanFloat]] = {}  # name → (requests, failures, p95)
    #: name → (p50, p99) of the same second; absent ({}) in files written before it
    endpoint_quantiles: dict[str, tuple[NanFloat, NanFloat]] = {}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SecondSummary:
        return cls.model_validate(data)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the line (NaN as None)."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return data


class WorkerLost(_Line):
    event: Literal["worker_lost"] = "worker_lost"
    worker: str
    pid: int = 0  # 0: not known (it never reported)
    t: float  # seconds since t = 0
    last_t: int = -1  # the last second it reported
    workers_left: int


EndStatus = Literal["completed", "stopped", "aborted"]


class Ended(_Line):
    event: Literal["ended"] = "ended"
    status: EndStatus
    reason: str | None = None
    files: list[str] = []
    late_reports: int = 0
    lost_workers: list[str] = []
    cut_requests: int = 0  # sent, the player killed before the answer: never recorded


LiveLine = Annotated[
    Listening | Started | SecondSummary | WorkerLost | Ended, Field(discriminator="event")
]
_ADAPTER: TypeAdapter[LiveLine] = TypeAdapter(LiveLine)
_EVENTS = frozenset({"listening", "started", "second", "worker_lost", "ended"})


def parse_line(line: str) -> LiveLine | None:
    """One line; None for an event of another kind. ValueError if it is not a line."""
    data = json_object(line)
    if data.get("event") not in _EVENTS:
        return None
    return _ADAPTER.validate_python(data)


class LiveWriter:
    """The master's side: one line per event, flushed.

    A line that cannot be written (disk full) is not raised into the master's run loop:
    :attr:`error` says what failed and the master ends the run.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self.error: str | None = None

    def emit(self, line: Listening | Started | SecondSummary | WorkerLost | Ended) -> None:
        try:
            self._file.write(line.model_dump_json() + "\n")
            self._file.flush()
        except OSError as error:
            self.error = self.error or f"cannot write {self._file.name}: {error.strerror or error}"

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as error:
            self.error = self.error or f"cannot write {self._file.name}: {error.strerror or error}"


class LiveTail:
    """The runner's side: the complete lines appended since the last call, typed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tail = Tail(path, parse_line)

    def read(self) -> list[LiveLine]:
        return [line for line in self._tail.read() if line is not None]


@dataclass(frozen=True)
class LiveLog:
    """What the Locust master told the runner before it died (``load/live.jsonl``)."""

    started_at: float | None  # Unix time of the load's t = 0 (the ``started`` line)
    seconds: tuple[SecondSummary, ...]  # the ``second`` lines, in order
    ended: bool  # an ``ended`` line: the master got to write its own files
    torn_last_line: bool  # the last line was cut short (a kill mid-write): skipped
    skipped_lines: int  # complete lines that were not a readable event


def read_live(text: str) -> LiveLog:
    """The whole of ``live.jsonl`` once its writer is gone (salvage)."""
    found = read_records(text, parse_line)
    started_at: float | None = None
    seconds: dict[int, SecondSummary] = {}
    ended = False
    for line in found.records:
        if isinstance(line, Started):
            started_at = line.started_at
        elif isinstance(line, SecondSummary):
            seconds.setdefault(line.t, line)
        elif isinstance(line, Ended):
            ended = True
    ordered = tuple(seconds[t] for t in sorted(seconds))
    return LiveLog(started_at, ordered, ended, found.torn, len(found.bad))


def read_live_file(path: Path) -> LiveLog:
    return read_live(path.read_text(encoding="utf-8", errors="replace"))


def writer_pid(live: Path) -> int | None:
    """The PID of a live process writing ``live`` (its ``--live`` argument): a Locust
    master still running, so the run has not died (and is not salvaged)."""
    target = live.resolve()
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            args = [a for a in (proc.info["cmdline"] or []) if a.endswith(LIVE_NAME)]
            if any(Path(proc.cwd(), a).resolve() == target for a in args):
                return int(proc.info["pid"])
        except psutil.Error:
            continue
    return None
