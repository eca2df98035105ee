"""Which fault class executes which scenario fault type, and the catalog of them all.

Importing this module registers every family. :func:`build_fault` turns one scenario
fault spec into a :class:`~spikekit.chaos.base.Fault`; :func:`catalog` describes every
type, its parameters and defaults, straight from the scenario models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import PlainSerializer
from pydantic_core import PydanticUndefined

from spikekit.chaos import cache, database, docker, network, process, provider, queue
from spikekit.chaos.base import FAULT_CLASSES, Fault, FaultConfigError
from spikekit.chaos.context import ChaosContext
from spikekit.chaos.schedule import ScheduledFault
from spikekit.scenarios.durations import format_duration
from spikekit.scenarios.faults import FAULT_TYPES, FaultBase
from spikekit.scenarios.model import Scenario

__all__ = [
    "FAMILIES",
    "Param",
    "build_fault",
    "catalog",
    "fault_class",
    "scheduled_faults",
    "unsupported_types",
]

FAMILIES = (network, provider, database, cache, queue, process, docker)
SCHEDULE_FIELDS = frozenset({"type", "at", "duration", "id", "note", "steady_state"})


def fault_class(fault_type: str) -> type[Fault[Any]]:
    cls = FAULT_CLASSES.get(fault_type)
    if cls is None:
        known = ", ".join(sorted(FAULT_CLASSES))
        raise FaultConfigError(fault_type, f"unknown fault type (known: {known})")
    return cls


def build_fault(
    spec: FaultBase, ctx: ChaosContext, *, fault_id: str, duration_s: float | None = None
) -> Fault[Any]:
    """The fault that executes ``spec`` against the platform described by ``ctx``."""
    return fault_class(spec.type)(spec, ctx, fault_id=fault_id, duration_s=duration_s)


def unsupported_types() -> list[str]:
    """Scenario fault types no fault class executes (should be empty)."""
    return sorted(set(FAULT_TYPES) - set(FAULT_CLASSES))


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str  # "required" when there is none
    description: str


@dataclass(frozen=True)
class CatalogEntry:
    type: str
    family: str
    summary: str
    target: str | None  # the parameter naming what the fault acts on
    params: tuple[Param, ...]


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("spikekit.scenarios.", "")


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory else field.default
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, float) and any(isinstance(m, PlainSerializer) for m in field.metadata):
        return format_duration(value)  # a Duration
    return "none" if value is None else str(getattr(value, "value", value))


def catalog() -> list[CatalogEntry]:
    """Every fault type with its parameters, defaults and descriptions, sorted by type."""
    entries: list[CatalogEntry] = []
    for name, model in sorted(FAULT_TYPES.items()):
        params = tuple(
            Param(key, _type_name(field.annotation), _default(field), field.description or "")
            for key, field in model.model_fields.items()
            if key not in SCHEDULE_FIELDS
        )
        cls = FAULT_CLASSES.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls else "not executable yet"
        doc = doc.replace("``", "")
        entries.append(CatalogEntry(name, model.family.value, doc, model.target_field, params))
    return entries


def scheduled_faults(scenario: Scenario, ctx: ChaosContext) -> list[ScheduledFault]:
    """The scenario's faults on the run's clock (``duration_scale`` applied), built for ``ctx``."""
    entries: list[ScheduledFault] = []
    for index, spec in enumerate(scenario.faults):
        start, end = scenario.fault_window(index)
        duration = None if end is None else end - start
        fault = build_fault(spec, ctx, fault_id=spec.fault_id(index), duration_s=duration)
        entries.append(ScheduledFault(fault, start, duration))
    return entries
