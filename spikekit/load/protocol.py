"""What the Locust processes tell each other and the orchestrating process.

- ``spikekit_setup`` (master → each worker, once, before the first spawn): the scenario,
  the worker's index among ``workers_total`` and the run's start time.
- ``spikekit_second`` (worker → master, once a second): per endpoint the requests,
  failures, generator errors and an encoded HDR histogram of the requests that *completed*
  in run second ``t``, the requests *cut* in it (the player killed with its request out),
  plus the worker's players and health.
- live lines (master → runner, ``live.jsonl``): ``listening``, ``started``, ``second``,
  ``ended`` — one JSON object per line, see :mod:`spikekit.load.events`.

Locust's messages carry JSON-able data (msgpack): each message is written with
``to_wire()`` (the setup: ``model_dump(mode="json")``; a second: the compact
:class:`SecondWire`, the same way) and validated on receipt by ``from_wire()``, which raises
:class:`ProtocolError` naming the message and the field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spikekit.errors import LoadError
from spikekit.scenarios import Scenario

SETUP_MESSAGE = "spikekit_setup"
SECOND_MESSAGE = "spikekit_second"


class ProtocolError(LoadError):
    """A message between the Locust processes is not what its model says."""

    def __init__(self, message: str, error: ValidationError) -> None:
        self.message = message
        problems = [
            f"  {'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}"
            for item in error.errors()
        ]
        super().__init__("\n".join([f"invalid {message} message", *problems]))


class Setup(BaseModel):
    """What the master tells each worker once, before the first spawn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: Scenario
    worker_index: int = Field(ge=0)
    workers_total: int = Field(ge=1)
    started_at: float

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_wire(cls, data: object) -> Setup:
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise ProtocolError(SETUP_MESSAGE, error) from None


#: An endpoint's second on the wire: requests, failures, generator errors, histogram.
EndpointWire = tuple[int, int, int, str]


class SecondWire(BaseModel):
    """A :class:`WorkerSecond` on the wire (short keys: it travels every second)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pid: int = 0  # 0: unknown
    worker: str
    t: int
    users: int
    players: int
    cpu: float
    rss: int
    endpoints: dict[str, EndpointWire]
    cut: dict[str, int] = {}  # endpoint → requests cut (sent, the player killed before the answer)


@dataclass
class EndpointSecond:
    requests: int = 0
    failures: int = 0
    generator_errors: int = 0
    histogram: str = ""  # encoded HDR histogram, "" when no request succeeded or failed

    def to_wire(self) -> EndpointWire:
        return (self.requests, self.failures, self.generator_errors, self.histogram)

    @classmethod
    def from_wire(cls, data: EndpointWire) -> EndpointSecond:
        return cls(*data)


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
    #: per endpoint, requests the player was killed in (sent, the answer not read)
    cut: dict[str, int] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The JSON-able :class:`SecondWire`."""
        return SecondWire(
            pid=self.pid,
            worker=self.worker,
            t=self.t,
            users=self.users,
            players=self.players,
            cpu=self.cpu_percent,
            rss=self.rss_bytes,
            endpoints={name: e.to_wire() for name, e in self.endpoints.items()},
            cut=self.cut,
        ).model_dump(mode="json")

    @classmethod
    def from_wire(cls, data: object) -> WorkerSecond:
        try:
            wire = SecondWire.model_validate(data)
        except ValidationError as error:
            raise ProtocolError(SECOND_MESSAGE, error) from None
        return cls(
            worker=wire.worker,
            t=wire.t,
            users=wire.users,
            players=wire.players,
            cpu_percent=wire.cpu,
            rss_bytes=wire.rss,
            endpoints={name: EndpointSecond.from_wire(e) for name, e in wire.endpoints.items()},
            pid=wire.pid,
            cut=dict(wire.cut),
        )
