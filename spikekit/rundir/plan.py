"""``capacity_plan.json``: what the capacity plan predicted for each step of the run.

Written at the start of a run against a target with measured costs (the bundled platform:
``capacity.json`` and ``scaling.json``), by :mod:`spikekit.run.plan_record`; read by the
analysis (:mod:`spikekit.analysis.plan_check`), which sets the run's measurements beside it.
A run against a platform without measured costs has no such file.

It says where its costs come from (:class:`Provenance`), what each step of the load shape
(a held level of players) was predicted to need (:class:`PredictedStep`), and the
Universal-Scalability-Law fit of the hottest service (:class:`UslRecord`). :func:`read_plan`
is tolerant: an absent, unreadable or invalid file reads as None, the reason kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spikekit.rundir.files import write_text_atomically
from spikekit.rundir.layout import CAPACITY_PLAN


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(_Model):
    """A figure with its interval."""

    point: float
    low: float
    high: float


class Provenance(_Model):
    """Where the costs come from, and what of the plan is measured or extrapolated."""

    source: str  # "bench --only platform, 2026-12-02, commit b87e387, 2 cores (AMD EPYC)"
    date: str
    commit: str
    cores: int = Field(ge=1)
    machine: str  # the CPU model, or "" when the bench did not say
    measured: list[str]  # the figures the benches measured
    extrapolated: list[str]  # the figures assumed beyond what was measured


class PartPrediction(_Model):
    part: str
    kind: str
    cores: Span


class PredictedStep(_Model):
    """One held level of the load shape: its window on the run clock and the prediction."""

    index: int = Field(ge=0)
    start_s: float = Field(ge=0)  # the hold's window, the settling seconds left out
    end_s: float = Field(ge=0)
    players: int = Field(ge=0)
    rps: float = Field(ge=0)
    parts: list[PartPrediction]


class CurvePoint(_Model):
    replicas: float
    rps: Span


class UslRecord(_Model):
    part: str
    sigma: Span
    kappa: Span
    peak_replicas: Span | None  # N*; None without coherency cost (κ = 0)
    samples: dict[int, list[float]]  # replicas → served req/s, per measured second
    curve: list[CurvePoint]  # X(N), its bootstrap band


class CapacityPlanFile(_Model):
    format_version: Literal[1] = 1
    scenario: str
    provenance: Provenance
    steps: list[PredictedStep]
    usl: UslRecord | None = None


def write_plan(run_dir: Path, plan: CapacityPlanFile) -> Path:
    path = run_dir / CAPACITY_PLAN
    write_text_atomically(path, json.dumps(plan.model_dump(mode="json"), indent=2))
    return path


def read_plan(run_dir: Path) -> tuple[CapacityPlanFile | None, str | None]:
    """The plan, or None and why: ``(None, None)`` when the run has no such file."""
    path = run_dir / CAPACITY_PLAN
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except OSError as error:
        return None, f"{CAPACITY_PLAN}: unreadable ({error.strerror or error})"
    try:
        return CapacityPlanFile.model_validate_json(text), None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        return None, f"{CAPACITY_PLAN}: invalid at {where}: {first['msg']}"
