"""What every scheduled fault has: offset, duration, id, and how it describes itself."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from spikekit.scenarios.durations import Duration, format_duration
from spikekit.scenarios.faults.steady import FaultSteadyState


class FaultFamily(StrEnum):
    NETWORK = "network"
    PROVIDER = "provider"
    DATABASE = "database"
    CACHE = "cache"
    QUEUE = "queue"
    PROCESS = "process"
    DOCKER = "docker"


_SCHEDULE_FIELDS = frozenset({"type", "at", "duration", "id", "note", "steady_state"})


class FaultBase(BaseModel):
    """What every fault has: when it starts, how long it lasts, how it is named."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    family: ClassVar[FaultFamily]
    #: The parameter naming what the fault acts on (left out of the summary's parameters).
    target_field: ClassVar[str | None] = None

    type: str
    at: Annotated[Duration, Field(ge=0, description="Offset from the start of the run, e.g. 5m.")]
    duration: Annotated[
        Duration | None,
        Field(gt=0, description="How long the fault stays on (none = until the run ends)."),
    ] = None
    id: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="Name in the journal and report (default: <index>-<type>).",
    )
    note: str = Field(default="", description="Why this fault is here; shown in the report.")
    steady_state: FaultSteadyState | None = Field(
        default=None,
        description="Inject only within these SLOs, waiting up to `within`; none = on time "
        "even under the scenario's steady_state (absent: the scenario's).",
    )

    def fault_id(self, index: int) -> str:
        """The journal's ``fault_id`` of this fault at position ``index`` of the schedule."""
        return self.id or f"{index}-{self.type}"

    def target_name(self) -> str:
        """What the fault acts on, as the journal's ``target``."""
        return self.family.value

    def params(self) -> dict[str, JsonValue]:
        """The fault-specific parameters, as the journal's ``params``."""
        dumped: dict[str, JsonValue] = self.model_dump(mode="json", exclude=set(_SCHEDULE_FIELDS))
        return dumped

    def summary(self) -> str:
        """One line: type, target and parameters."""
        params = " ".join(
            f"{k}={v}" for k, v in self.params().items() if k != self.target_field and v is not None
        )
        length = f" for {format_duration(self.duration)}" if self.duration else ""
        return f"{self.type}{length}: {self.target_name()} {params}".rstrip()


#: Milliseconds, up to 10 minutes.
Millis = Annotated[int, Field(ge=0, le=600_000)]
#: A share between 0 and 1.
Share = Annotated[float, Field(ge=0, le=1)]
