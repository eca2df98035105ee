"""``meta.json`` and ``scenario.yaml``: written first, so that a crash still leaves a
directory ``spikekit report`` can read (judged as aborted).

:func:`write_meta` replaces ``meta.json`` atomically; :func:`complete_meta` is the recovery
of a run that died before its end (salvage): it sets what the run would have written then
and keeps every other key as it was. ``scenario.yaml`` is the resolved scenario
(:func:`write_scenario`); the analysis reads only its ``slos`` and ``recovery``
(:func:`read_slos`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spikekit.errors import ConfigError
from spikekit.rundir.files import invalid, need, write_text_atomically
from spikekit.rundir.layout import FORMAT_VERSION, JOURNAL, META, SALVAGE, SCENARIO, TMP
from spikekit.scenarios.slo import SLO, RecoveryPolicy

#: ``abort_reason`` of a run until it ends.
IN_PROGRESS = f"the run did not finish (crash or kill): see {JOURNAL}"


class Machine(BaseModel):
    model_config = ConfigDict(extra="allow")

    hostname: str = ""
    cpus: int = 0
    memory_gib: float = 0.0
    python: str = ""
    platform: str = ""


class MachineFitRecord(BaseModel):
    """The scenario's peak against what this machine's bundled platform holds, as the
    run saw it at its start (:mod:`spikekit.run.capacity_check`; docs/capacity.md)."""

    fit: Literal["fits", "tight", "far beyond"]
    ratio: float  # the peak's req/s / the req/s the platform holds here
    peak_players: int
    peak_rps: float
    holds_players: int
    holds_rps: float
    cores: int
    basis: str  # "bench 2026-12-01: 350 players, 112 req/s", or how it was estimated
    estimate: bool
    fitting_scale: float | None = None
    message: str = ""


class RunMeta(BaseModel):
    """``meta.json``."""

    model_config = ConfigDict(extra="allow")

    format_version: int
    run_id: str
    scenario: str
    started_at: float
    ended_at: float | None = None
    status: Literal["completed", "aborted"]
    abort_reason: str | None = None
    scale: float = 1.0
    duration_scale: float = 1.0
    profile: str | None = None
    target: str = ""
    spikekit_version: str = ""
    machine: Machine = Field(default_factory=Machine)
    #: absent for a platform of the user's own, and in run directories older than it
    machine_fit: MachineFitRecord | None = None


def write_meta(run_dir: Path, meta: RunMeta) -> None:
    write_text_atomically(run_dir / META, json.dumps(meta.model_dump(), indent=2), TMP)


def read_meta(run_dir: Path) -> RunMeta:
    """``meta.json``; :class:`ConfigError` naming the file when missing, invalid or of
    another format version."""
    path = run_dir / META
    try:
        meta = RunMeta.model_validate_json(need(path).read_bytes())
    except ValidationError as error:
        raise invalid(path, error) from error
    if meta.format_version != FORMAT_VERSION:
        raise ConfigError(
            f"{path}: format_version {meta.format_version}, expected {FORMAT_VERSION}"
        )
    return meta


def read_meta_or_none(run_dir: Path) -> RunMeta | None:
    """``meta.json``, or None when it cannot be read (:func:`read_meta` names why)."""
    try:
        return RunMeta.model_validate_json((run_dir / META).read_bytes())
    except (OSError, ValidationError):
        return None


def complete_meta(run_dir: Path, started_at: float, ended_at: float, reason: str) -> None:
    """Recovery: what the run would have written at its end; every other key as it was."""
    path = run_dir / META
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(started_at=started_at, ended_at=ended_at, status="aborted", abort_reason=reason)
    write_text_atomically(path, json.dumps(document, indent=2), SALVAGE)


def write_scenario(run_dir: Path, text: str) -> None:
    """``scenario.yaml``: the resolved scenario as YAML (``spikekit.scenarios.dump_scenario``)."""
    (run_dir / SCENARIO).write_text(text, encoding="utf-8")


class _SLOSection(BaseModel):
    """The keys of ``scenario.yaml`` the analysis reads; the rest is the Scenario model's."""

    model_config = ConfigDict(extra="ignore")

    slos: list[SLO] = Field(default_factory=list)
    recovery: RecoveryPolicy = Field(default_factory=RecoveryPolicy)


def read_slos(run_dir: Path) -> tuple[list[SLO], RecoveryPolicy]:
    """The ``slos`` and ``recovery`` of ``scenario.yaml``."""
    path = run_dir / SCENARIO
    try:
        document = yaml.safe_load(need(path).read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        section = _SLOSection.model_validate(document)
    except ValidationError as error:
        raise invalid(path, error) from error
    return section.slos, section.recovery
