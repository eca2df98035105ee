"""A fault's steady-state gate: the SLOs the platform must be within before it goes on.

A fault's own ``steady_state`` wins; a fault without one takes the scenario's top-level
``steady_state`` (the default gate); ``steady_state: none`` opts a fault out of it.
``none`` is the one spelling of "no gate" because YAML reads it as a word, never as null:
``null`` (or leaving the field out) stays "take the default", so a dumped and re-read
scenario (``model_dump`` then validation) keeps every fault's gate as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

from spikekit.scenarios.durations import Duration, format_duration

__all__ = [
    "NO_GATE",
    "FaultSteadyState",
    "SteadyState",
    "describe_gate",
    "effective_gate",
    "unknown_slos",
]

#: What a fault writes to opt out of the scenario's default gate: ``steady_state: none``.
NO_GATE: Literal["none"] = "none"


class SteadyState(BaseModel):
    """Inject only when the platform is within ``slos`` (names of the scenario's SLOs);
    wait up to ``within`` for it, else skip the fault ("not injected: platform not steady")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slos: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="Names of the scenario's SLOs the platform must be within."
    )
    within: Annotated[
        Duration, Field(gt=0, le=3600, description="How long the fault waits for it, e.g. 30s.")
    ] = 30.0


def _no_gate_spelling(value: object) -> object:
    """``none`` in any case is :data:`NO_GATE`; anything but a mapping is refused, naming
    both forms (``off`` or ``false`` are YAML booleans: one spelling, not several)."""
    if isinstance(value, dict | SteadyState):
        return value
    if isinstance(value, str) and value.strip().lower() == NO_GATE:
        return NO_GATE
    raise ValueError(
        "{slos: [NAME, ...], within: 30s}, or none (no gate, not even the scenario's "
        f"steady_state), got {value!r}"
    )


def _tag(value: object) -> str:
    return "none" if value == NO_GATE else "gate"


#: A fault's ``steady_state`` field: a gate of its own or ``none`` (None: the default).
FaultSteadyState = Annotated[
    Annotated[SteadyState, Tag("gate")] | Annotated[Literal["none"], Tag("none")],
    Discriminator(_tag),
    BeforeValidator(_no_gate_spelling),
]


def effective_gate(
    own: SteadyState | Literal["none"] | None, default: SteadyState | None
) -> SteadyState | None:
    """The gate a fault runs under: its own, none if it opted out, else the default."""
    if own == NO_GATE:
        return None
    return own if isinstance(own, SteadyState) else default


def unknown_slos(steady: SteadyState | None, known: Iterable[str]) -> list[str]:
    """The names ``steady`` gives that are not among ``known`` (the scenario's SLO names)."""
    names = set(known)
    return [name for name in (steady.slos if steady else []) if name not in names]


def describe_gate(own: SteadyState | Literal["none"] | None, default: SteadyState | None) -> str:
    """One cell of the dry run's faults table: what holds this fault back, and from where."""
    gate = effective_gate(own, default)
    if gate is None:
        return "none (opted out)" if own == NO_GATE and default else "on time"
    source = "own" if isinstance(own, SteadyState) else "scenario default"
    return f"{', '.join(gate.slos)}; waits ≤ {format_duration(gate.within)} ({source})"
