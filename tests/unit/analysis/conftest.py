from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from spikekit.analysis.analyse import RunAnalysis, analyse
from spikekit.analysis.rundir import load_run
from spikekit.analysis.synthetic import SyntheticRun, write_synthetic_run

Analyse = Callable[[SyntheticRun], RunAnalysis]


@pytest.fixture
def analysed(tmp_path: Path) -> Analyse:
    counter = iter(range(1000))

    def build(spec: SyntheticRun) -> RunAnalysis:
        run_dir = write_synthetic_run(tmp_path / f"run-{next(counter)}", spec)
        return analyse(load_run(run_dir))

    return build
