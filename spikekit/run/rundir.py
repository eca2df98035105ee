"""The run's side of the run directory: created first, ``meta.json`` written before
anything can fail, so that a crash still leaves a directory ``spikekit report`` can read
(judged as aborted). The files and their formats are :mod:`spikekit.rundir`'s."""

from __future__ import annotations

import os
import platform
import socket
import time
from pathlib import Path

import psutil

from spikekit import __version__
from spikekit.rundir import meta as meta_file
from spikekit.rundir.layout import FORMAT_VERSION, SPACE_RESERVE
from spikekit.rundir.meta import IN_PROGRESS, Machine, MachineFitRecord, RunMeta
from spikekit.scenarios import Scenario, dump_scenario
from spikekit.scenarios.target import PlatformTarget

__all__ = ["IN_PROGRESS", "create", "machine", "release_space", "reserve_space", "write_meta"]
#: Space held in the run folder for its last words, freed when its disk fills up: a little
#: for the journal at once (to say what happened), the rest once the platform has stopped
#: (``meta.json``, the rebuilt per-second files, the report).
RESERVES = {"journal": 256 << 10, "report": 4 << 20}
RESERVE = SPACE_RESERVE


def reserve_space(run_dir: Path) -> bool:
    """Hold :data:`RESERVES` in ``run_dir`` (files of zeros); False when there is no room."""
    for name, size in RESERVES.items():
        path = run_dir / RESERVE.format(name)
        try:
            with path.open("wb") as handle:
                handle.write(bytes(size))
        except OSError:
            path.unlink(missing_ok=True)
            return False
    return True


def release_space(run_dir: Path, *names: str) -> None:
    """Give reserved space back (all of it without ``names``)."""
    for name in names or tuple(RESERVES):
        (run_dir / RESERVE.format(name)).unlink(missing_ok=True)


def machine() -> Machine:
    return Machine(
        hostname=socket.gethostname(),
        cpus=os.cpu_count() or 0,
        memory_gib=round(psutil.virtual_memory().total / 2**30, 1),
        python=platform.python_version(),
        platform=platform.platform(),
    )


def create(out: Path, scenario: Scenario) -> Path:
    """``out/<YYYYmmdd-HHMMSS>-<scenario>``, unique, with ``scenario.yaml`` in it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = out / f"{stamp}-{scenario.name}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = out / f"{stamp}-{scenario.name}-{suffix}"
    run_dir.mkdir(parents=True)
    meta_file.write_scenario(run_dir, dump_scenario(scenario))
    return run_dir


def write_meta(
    run_dir: Path,
    scenario: Scenario,
    target: str,
    *,
    started_at: float,
    ended_at: float | None = None,
    aborted: str | None = IN_PROGRESS,
    machine_fit: MachineFitRecord | None = None,
) -> RunMeta:
    profile = scenario.target.profile.value if isinstance(scenario.target, PlatformTarget) else None
    meta = RunMeta(
        format_version=FORMAT_VERSION,
        run_id=run_dir.name,
        scenario=scenario.name,
        started_at=started_at,
        ended_at=ended_at,
        status="aborted" if aborted else "completed",
        abort_reason=aborted,
        scale=scenario.scale,
        duration_scale=scenario.duration_scale,
        profile=profile,
        target=target,
        spikekit_version=__version__,
        machine=machine(),
        machine_fit=machine_fit,
    )
    meta_file.write_meta(run_dir, meta)
    return meta
