"""Scenarios: the Scenario model, its YAML loader, the built-ins and the spike shape.

>>> from spikekit.scenarios import load_scenario, shape_for
>>> scenario = load_scenario("influencer-spike")
>>> shape_for(scenario).tick(0)
Tick(users=8000, spawn_rate=1.0)
"""

from __future__ import annotations

from spikekit.scenarios.durations import Duration, format_duration, parse_duration
from spikekit.scenarios.faults import FAULT_TYPES, Fault, FaultBase, FaultFamily
from spikekit.scenarios.loader import (
    builtin_names,
    dump_scenario,
    load_scenario,
    parse_scenario,
    read_source,
)
from spikekit.scenarios.model import Scenario, StopCondition
from spikekit.scenarios.shape import (
    ClosedShape,
    OpenShape,
    Tick,
    shape_for,
    workers_for,
    workers_needed,
)
from spikekit.scenarios.slo import SLO, RecoveryPolicy, SLOMetric

__all__ = [
    "FAULT_TYPES",
    "SLO",
    "ClosedShape",
    "Duration",
    "Fault",
    "FaultBase",
    "FaultFamily",
    "OpenShape",
    "RecoveryPolicy",
    "SLOMetric",
    "Scenario",
    "StopCondition",
    "Tick",
    "builtin_names",
    "dump_scenario",
    "format_duration",
    "load_scenario",
    "parse_duration",
    "parse_scenario",
    "read_source",
    "shape_for",
    "workers_for",
    "workers_needed",
]
