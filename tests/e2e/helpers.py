"""Running the real ``spikekit`` command, and waiting for processes to be gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence

from spikekit.processes import ProcessRef


def spikekit(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spikekit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def alive_after(refs: Sequence[ProcessRef], seconds: float) -> list[ProcessRef]:
    """The processes still alive once ``seconds`` have passed (or none earlier)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(ref.is_alive() for ref in refs):
            return []
        time.sleep(0.1)
    return [ref for ref in refs if ref.is_alive()]
