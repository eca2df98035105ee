"""The container images, built in the background while the unit tests run.

A fresh checkout builds the base image (debootstrap, about 80 s) and the project image
before the container tests can start: two to three minutes, mostly one core and the
network. The session starts ``make podman`` and ``make -j2 image`` as soon as it knows a
container test will run, and orders the unit tests first, so the build overlaps tests that
measure nothing of time; the container fixture then waits for it (and its own ``make``
finds the images up to date). The build is a process group of the session's own, ended at
the session's end if it is still going.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / ".tools" / "images" / "prebuild.log"

_build: subprocess.Popen[bytes] | None = None


def start() -> None:
    """Start the build once (``SPIKEKIT_NO_PREBUILD=1``: never, the fixture builds)."""
    global _build
    if _build is not None or os.environ.get("SPIKEKIT_NO_PREBUILD") == "1":
        return
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("wb") as log:
        _build = subprocess.Popen(
            ["sh", "-c", f"make -C '{ROOT}' podman && make -C '{ROOT}' -j2 image"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait(timeout: float = 900.0) -> tuple[float, str | None]:
    """Seconds waited for the background build, and its failure (None: built or none ran)."""
    started = time.monotonic()
    if _build is None:
        return 0.0, None
    try:
        code = _build.wait(timeout)
    except subprocess.TimeoutExpired:
        stop()
        return time.monotonic() - started, f"not done within {timeout:.0f} s"
    waited = time.monotonic() - started
    if code != 0:
        return waited, f"exit code {code}:\n{LOG.read_text(errors='replace')[-3000:]}"
    return waited, None


def stop() -> None:
    """End the build's process group if it is still running (by its own PID)."""
    if _build is None or _build.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(_build.pid, signal.SIGTERM)
    try:
        _build.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(_build.pid, signal.SIGKILL)
        _build.wait(10)
