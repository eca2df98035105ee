"""What the Locust processes tell each other and the orchestrating process.

- ``spikekit_setup`` (master → each worker, once, before the first spawn): the scenario,
  the worker's index among ``workers_total`` and the run's start time.
- ``spikekit_second`` (worker → master, once a second): per endpoint the requests,
  failures, generator errors and an encoded HDR histogram of the requests that *completed*
  in run second ``t``, plus the worker's players and health.
- live lines (master → runner, ``live.jsonl``): ``listening``, ``started``, ``second``,
  ``ended`` — one JSON object per line, see :mod:`spikekit.load.events`.

Plain dicts on the wire (msgpack / JSON); these dataclasses are the typed view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SETUP_MESSAGE = "spikekit_setup"
SECOND_MESSAGE = "spikekit_second"


@dataclass(frozen=True)
class Setup:
    scenario: dict[str, Any]
    worker_index: int
    workers_total: int
    started_at: float

    def to_wire(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "worker_index": self.worker_index,
            "workers_total": self.workers_total,
            "started_at": self.started_at,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Setup:
        return cls(
            scenario=dict(data["scenario"]),
            worker_index=int(data["worker_index"]),
            workers_total=int(data["workers_total"]),
            started_at=float(data["started_at"]),
        )


@dataclass
class EndpointSecond:
    requests: int = 0
    failures: int = 0
    generator_errors: int = 0
    histogram: str = ""  # encoded HDR histogram, "" when no request succeeded or failed

    def to_wire(self) -> list[Any]:
        return [self.requests, self.failures, self.generator_errors, self.histogram]

    @classmethod
    def from_wire(cls, data: list[Any]) -> EndpointSecond:
        return cls(int(data[0]), int(data[1]), int(data[2]), str(data[3]))


@dataclass
class WorkerSecond:
    """One worker's report for run second ``t`` (``[t, t+1)`` after ``started_at``)."""

    worker: str
    t: int
    users: int  # Locust users alive on the worker (idle open-model users included)
    players: int  # players in a session (the "actual players")
    cpu_percent: float
    rss_bytes: int
    endpoints: dict[str, EndpointSecond] = field(default_factory=dict)
    pid: int = 0  # the worker's process id (0: unknown), to name it when it is lost

    def to_wire(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "worker": self.worker,
            "t": self.t,
            "users": self.users,
            "players": self.players,
            "cpu": self.cpu_percent,
            "rss": self.rss_bytes,
            "endpoints": {name: e.to_wire() for name, e in self.endpoints.items()},
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> WorkerSecond:
        return cls(
            worker=str(data["worker"]),
            t=int(data["t"]),
            users=int(data["users"]),
            players=int(data["players"]),
            cpu_percent=float(data["cpu"]),
            rss_bytes=int(data["rss"]),
            endpoints={
                str(name): EndpointSecond.from_wire(list(value))
                for name, value in dict(data["endpoints"]).items()
            },
            pid=int(data.get("pid", 0)),
        )
