"""A scenario's timeline in words: what the load does and which faults start when.

Used by ``spikekit scenarios show`` and the chaos engine's ``plan``; times are on the
run's clock (``duration_scale`` applied), levels with ``scale`` applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikekit.scenarios.durations import format_duration
from spikekit.scenarios.model import Scenario
from spikekit.scenarios.shape import Segment, shape_for
from spikekit.scenarios.stages import OpenLoad, Ramp


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline: a load stage or a fault."""

    start_s: float
    end_s: float | None
    kind: str  # "load" or "fault"
    text: str

    @property
    def when(self) -> str:
        start = format_duration(self.start_s)
        return start if self.end_s is None else f"{start} to {format_duration(self.end_s)}"


def timeline(scenario: Scenario) -> list[TimelineEntry]:
    """The load stages and the faults, sorted by start time (stages first on a tie)."""
    shape = shape_for(scenario)
    unit = "arrivals/s" if isinstance(scenario.load, OpenLoad) else "players"
    entries = [
        TimelineEntry(s.start_s, s.end_s, "load", _describe(s, unit)) for s in shape.curve.segments
    ]
    for index, fault in enumerate(scenario.faults):
        start, end = scenario.fault_window(index)
        text = f"{fault.fault_id(index)}: {fault.summary()}"
        entries.append(TimelineEntry(start, end, "fault", text))
    order = {"load": 0, "fault": 1}
    return sorted(entries, key=lambda e: (e.start_s, order[e.kind]))


def _describe(segment: Segment, unit: str) -> str:
    a, b = _count(segment.start_level), _count(segment.end_level)
    if a == b:
        return f"hold {b} {unit}"
    if segment.ramp is Ramp.STEP:
        return f"step {a} → {b} {unit}"
    return f"{segment.ramp.value} {a} → {b} {unit}"


def _count(level: float) -> str:
    return f"{level:,.0f}" if level >= 10 or level == int(level) else f"{level:.2g}"
