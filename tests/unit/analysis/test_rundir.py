"""Loading a run directory, and the errors that name the bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from spikekit.analysis.rundir import load_run
from spikekit.analysis.synthetic import SyntheticFault, SyntheticRun, write_synthetic_run
from spikekit.errors import ConfigError


def test_loads_everything(tmp_path: Path) -> None:
    spec = SyntheticRun(duration_s=120, faults=(SyntheticFault("f1", 30.5, 60.0),))
    run = load_run(write_synthetic_run(tmp_path / "run", spec))
    assert run.duration_s == 120
    assert run.meta.status == "completed" and not run.aborted
    assert [(f.fault_id, f.injected_t, f.reverted_t) for f in run.faults] == [("f1", 30.5, 60.0)]
    assert [s.name for s in run.slos] == ["p95 all", "errors"]
    assert run.recovery.stable_s == 10
    assert run.acked is not None and len(run.acked) == 200
    assert run.audit is not None and run.audit.ok


def test_aborted_run(tmp_path: Path) -> None:
    run = load_run(write_synthetic_run(tmp_path / "run", SyntheticRun(aborted=True)))
    assert run.aborted and run.abort_reason is not None


@pytest.mark.parametrize(
    "name", ["meta.json", "journal.jsonl", "timeseries.parquet", "players.parquet", "scenario.yaml"]
)
def test_a_missing_required_file_is_named(tmp_path: Path, name: str) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun(duration_s=30))
    (run_dir / name).unlink()
    with pytest.raises(ConfigError, match=name):
        load_run(run_dir)


def test_an_invalid_slo_names_the_scenario_file(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun(duration_s=30))
    (run_dir / "scenario.yaml").write_text(
        "slos:\n  - name: x\n    metric: nope\n    threshold: 1\n"
    )
    with pytest.raises(ConfigError, match=r"scenario\.yaml.*slos\.0\.metric"):
        load_run(run_dir)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        load_run(tmp_path / "absent")
