"""The capacity check for this machine: the bench figure kept in the package, the cores
this process may use, and whether ``spikekit plan`` exists to point to. The judgement
itself is :mod:`spikekit.run.capacity_check`'s (pure)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from spikekit.errors import ConfigError
from spikekit.reference_platform.capacity import CAPACITY_FILE, read_capacity
from spikekit.run.capacity_check import MachineFit, check_fit
from spikekit.scenarios import Scenario


def usable_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def check_this_machine(
    scenario: Scenario,
    capacity_file: Path = CAPACITY_FILE,
    cores: int | None = None,
    ref: str = "",
) -> MachineFit | None:
    """:func:`check_fit` with this machine's facts; an unreadable figure falls back to
    the documented estimate, which then names the file and why. ``ref``: the scenario as
    the user named it, for the command the message suggests."""
    missing = f"no bench figure in {capacity_file.name}"
    try:
        capacity = read_capacity(capacity_file)
    except ConfigError as error:
        capacity, missing = None, str(error)
    return check_fit(
        scenario,
        cores or usable_cores(),
        capacity,
        missing=missing,
        plan_command=importlib.util.find_spec("spikekit.cli.plan") is not None,
        ref=ref,
    )
