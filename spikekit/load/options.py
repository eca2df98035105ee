"""How a load run is executed (not *what* it runs — that is the scenario)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Literal

from spikekit.scenarios import Scenario, workers_for
from spikekit.scenarios.shape import SPAWN_RATE_PER_CORE

Workers = int | Literal["auto"]


@dataclass(frozen=True)
class LoadOptions:
    workers: Workers = "auto"  # local worker processes; auto = cores
    remote_workers: int = 0  # extra workers the master waits for (spikekit worker --master)
    master_bind: str = "127.0.0.1"  # 0.0.0.0 to accept remote workers
    master_port: int | None = None  # None: a free port
    connections_per_worker: int = 512  # the worker's shared keep-alive pool to the target
    network_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    stop_timeout_s: float = 10.0  # how long stopping players may finish their action
    grace_s: float = 20.0  # past the planned duration before the master stops on its own
    wrapup_s: float = 8.0  # the master's own wrap-up after its players stopped (drain, files)
    kill_grace_s: float = 5.0  # past all of that before the runner kills by PID
    startup_timeout_s: float = 60.0
    max_duration_s: float | None = None  # cut the run at this many seconds
    allow_targets: tuple[str, ...] = ()  # hosts allowed outside 127.0.0.0/8
    raw_samples: bool = False  # every request to load/raw-samples-worker-N.csv (for checks)
    python: str = field(default_factory=lambda: sys.executable)


@dataclass(frozen=True)
class WorkerPlan:
    workers: int
    ramp_needs: int  # workers the steepest ramp needs at SPAWN_RATE_PER_CORE users/s each
    warning: str | None


def plan_workers(requested: Workers, scenario: Scenario, cores: int | None = None) -> WorkerPlan:
    """``auto``: one worker per core. Warn when the steepest ramp needs more than that."""
    cores = cores or os.cpu_count() or 1
    needs = workers_for(scenario)
    if requested == "auto":
        workers = cores
    elif requested >= 1:
        workers = requested
    else:
        raise ValueError(f"workers must be 'auto' or >= 1, got {requested}")
    warning = None
    if needs > workers:
        warning = (
            f"the steepest ramp needs {needs} workers at {SPAWN_RATE_PER_CORE:,.0f} users/s "
            f"each, running {workers}: the actual players will lag the target"
        )
    elif workers > cores:
        warning = f"{workers} workers on {cores} cores: they will compete for CPU"
    return WorkerPlan(workers, needs, warning)
