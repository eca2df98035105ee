"""The :class:`Scenario`: one spike-and-chaos experiment as validated data.

A scenario names its target, the load (stages of players or of arrivals), who the
players are, the SLOs that say whether the platform survived, the fault schedule and the
conditions that end a run early. ``scale`` multiplies player counts and arrival rates;
``duration_scale`` multiplies stage durations and fault offsets and durations, so the
full 8k → 120k shape runs on a laptop. Both are recorded with the run.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from spikekit.errors import SpikekitError
from spikekit.scenarios.durations import Duration, format_duration
from spikekit.scenarios.faults import Fault, FaultBase
from spikekit.scenarios.faults.steady import SteadyState, effective_gate, unknown_slos
from spikekit.scenarios.journeys import Players
from spikekit.scenarios.personas import GameFocus, Impatience, PersonaMix, ThinkTime
from spikekit.scenarios.signals import PlatformSignal
from spikekit.scenarios.slo import FLOOR_METRICS, SLO, RecoveryPolicy, SLOMetric
from spikekit.scenarios.stages import ClosedLoad, LoadModel, OpenLoad
from spikekit.scenarios.target import PlatformTarget, Population, Target
from spikekit.scenarios.telemetry import Telemetry, telemetry_problems

#: A path inside a scenario, as pydantic writes it: ``("faults", 2, "at")``.
FieldPath = tuple[str | int, ...]

_ENDPOINT = re.compile(r"^(\*|(GET|POST|PUT|PATCH|DELETE|HEAD) /\S*)$")
_ENDPOINT_EXPECTED = "'*' or 'METHOD /path' such as 'POST /api/login'"


class ConsistencyError(SpikekitError, ValueError):  # a ValueError for pydantic
    """Problems found across fields, each with the path it concerns (relative to the model)."""

    def __init__(self, problems: list[tuple[FieldPath, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{dotted(path)}: {message}" for path, message in problems))


def dotted(path: FieldPath) -> str:
    """``("faults", 2, "at")`` → ``faults[2].at``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


class StopCondition(PlatformSignal):
    """End the run early when ``metric`` stays past ``threshold`` for ``sustained``
    (``metric: query``: a recorded series, :class:`PlatformSignal`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: SLOMetric = Field(description="What is watched (the SLO metrics).")
    threshold: float = Field(ge=0, description="Above it (below it for success rates): stop.")
    endpoint: str = Field(default="*", description="Endpoint, or * for all requests.")
    sustained: Annotated[
        Duration, Field(gt=0, description="How long it must hold before the run stops.")
    ] = 30.0

    @property
    def is_floor(self) -> bool:
        return self.metric in FLOOR_METRICS or self.floor


class Scenario(BaseModel):
    """One experiment: a load shape, players, SLOs and a fault schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Short id, e.g. my-spike.")
    description: str = Field(default="", description="What the scenario shows, one paragraph.")
    target: Target = Field(default_factory=PlatformTarget, description="Platform or URL.")
    population: Population = Field(default_factory=Population, description="Seeded accounts.")
    load: LoadModel = Field(description="Stages of players (closed) or arrivals (open).")
    personas: PersonaMix = Field(default_factory=PersonaMix, description="Persona weights.")
    players: Players = Field(
        default_factory=Players,
        description="The bundled personas, a locustfile or declarative journeys.",
    )
    games: GameFocus = Field(default_factory=GameFocus, description="Game family focus.")
    think_time: ThinkTime = Field(
        default_factory=ThinkTime, description="Pause or pacing between actions."
    )
    impatience: Impatience = Field(default_factory=Impatience, description="Retries on trouble.")
    slos: list[SLO] = Field(default_factory=list, description="What 'survived' means.")
    recovery: RecoveryPolicy = Field(
        default_factory=RecoveryPolicy, description="When a breached SLO counts as recovered."
    )
    faults: list[Fault] = Field(default_factory=list, description="The fault schedule.")
    steady_state: SteadyState | None = Field(
        default=None,
        description="The gate of every fault without its own (a fault opts out: none).",
    )
    stop_conditions: list[StopCondition] = Field(
        default_factory=list, description="End the run early when the platform is past saving."
    )
    scale: float = Field(
        default=1.0, gt=0, le=100, description="Multiplies player counts and arrival rates."
    )
    duration_scale: float = Field(
        default=1.0, gt=0, le=100, description="Multiplies stage durations and fault times."
    )
    seed: int = Field(default=0, ge=0, description="Random seed of players' choices.")
    telemetry: Telemetry | None = Field(
        default=None, description="A platform of your own: /metrics to scrape, PromQL queries."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = [
            *self._fault_problems(),
            *self._endpoint_problems(),
            *self._load_problems(),
            *self._think_problems(),
            *self._steady_problems(),
            *telemetry_problems(self),
        ]
        if problems:
            raise ConsistencyError(problems)
        return self

    def _fault_problems(self) -> list[tuple[FieldPath, str]]:
        problems: list[tuple[FieldPath, str]] = []
        end = self.duration_s
        seen: dict[str, int] = {}
        for index, fault in enumerate(self.faults):
            if fault.at >= end:
                problems.append(
                    (
                        ("faults", index, "at"),
                        f"an offset before the scenario ends at {format_duration(end)}, "
                        f"got {format_duration(fault.at)}",
                    )
                )
            elif fault.duration is not None and fault.at + fault.duration > end:
                problems.append(
                    (
                        ("faults", index, "duration"),
                        f"at most {format_duration(end - fault.at)} (the fault starts at "
                        f"{format_duration(fault.at)}, the scenario ends at "
                        f"{format_duration(end)}), got {format_duration(fault.duration)}",
                    )
                )
            fault_id = fault.fault_id(index)
            if fault_id in seen:
                problems.append(
                    (
                        ("faults", index, "id"),
                        f"a unique id, {fault_id!r} is fault {seen[fault_id]}",
                    )
                )
            seen.setdefault(fault_id, index)
        return problems

    def _endpoint_problems(self) -> list[tuple[FieldPath, str]]:
        problems: list[tuple[FieldPath, str]] = []
        names: set[str] = set()
        for index, slo in enumerate(self.slos):
            if slo.metric is SLOMetric.STREAM_LAG:
                pass  # its endpoint names a stream ("payments", "wallet.events") or is "*"
            elif not _ENDPOINT.match(slo.endpoint):
                problems.append(
                    (("slos", index, "endpoint"), f"{_ENDPOINT_EXPECTED}, got {slo.endpoint!r}")
                )
            if slo.name in names:
                problems.append((("slos", index, "name"), f"a unique name, {slo.name!r} repeats"))
            names.add(slo.name)
        for index, stop in enumerate(self.stop_conditions):
            if not _ENDPOINT.match(stop.endpoint):
                problems.append(
                    (
                        ("stop_conditions", index, "endpoint"),
                        f"{_ENDPOINT_EXPECTED}, got {stop.endpoint!r}",
                    )
                )
        return problems

    def _load_problems(self) -> list[tuple[FieldPath, str]]:
        peak = self.peak_players
        if isinstance(self.load, ClosedLoad) and peak > self.population.accounts:
            return [
                (
                    ("population", "accounts"),
                    f"at least as many accounts as concurrent players at the peak ({peak:,} "
                    f"with scale {self.scale:g}), got {self.population.accounts:,}",
                )
            ]
        return []

    def _think_problems(self) -> list[tuple[FieldPath, str]]:
        think = self.think_time
        if think.pacing and think.max <= 0:
            return [
                (
                    ("think_time", "max"),
                    "a longest interval above 0 with pacing: true (the time between the "
                    f"starts of two actions), got {format_duration(think.max)}",
                )
            ]
        return []

    def _steady_problems(self) -> list[tuple[FieldPath, str]]:
        """The default gate's SLO names (a fault's own are checked with its resolution)."""
        unknown = unknown_slos(self.steady_state, (slo.name for slo in self.slos))
        known = ", ".join(repr(slo.name) for slo in self.slos) or "none"
        return [
            (("steady_state", "slos"), f"one of the SLO names {known}, got {n!r}") for n in unknown
        ]

    # --- derived figures -------------------------------------------------------------------

    def steady_state_for(self, fault: FaultBase) -> SteadyState | None:
        """The gate ``fault`` runs under: its own, none (opted out), else the default."""
        return effective_gate(fault.steady_state, self.steady_state)

    @property
    def duration_s(self) -> float:
        """The length of the stages as written (before ``duration_scale``)."""
        return self.load.duration_s

    @property
    def planned_duration_s(self) -> float:
        """The length of the run: the stages times ``duration_scale``."""
        return self.load.duration_s * self.duration_scale

    @property
    def is_open(self) -> bool:
        return isinstance(self.load, OpenLoad)

    @property
    def peak_players(self) -> int:
        """Concurrent players at the peak, ``scale`` applied (open model: Little's law)."""
        peak = self.load.peak_players if isinstance(self.load, OpenLoad) else self.load.peak
        return round(peak * self.scale)

    def fault_window(self, index: int) -> tuple[float, float | None]:
        """When fault ``index`` starts and ends in the run (``duration_scale`` applied)."""
        fault = self.faults[index]
        start = fault.at * self.duration_scale
        end = None if fault.duration is None else start + fault.duration * self.duration_scale
        return start, end

    def with_overrides(
        self,
        *,
        scale: float | None = None,
        duration_scale: float | None = None,
        seed: int | None = None,
    ) -> Scenario:
        """A validated copy with the command line's ``--scale`` & co. applied."""
        data = self.model_dump()
        for key, value in (("scale", scale), ("duration_scale", duration_scale), ("seed", seed)):
            if value is not None:
                data[key] = value
        return Scenario.model_validate(data)
