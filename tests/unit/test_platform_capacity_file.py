"""``capacity.json``: the platform bench writes its knee, the dry run reads it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.platform_section import capacity_of, cpu_model, write_capacity_figure
from spikekit.errors import ConfigError
from spikekit.reference_platform.capacity import CAPACITY_FILE, read_capacity
from spikekit.run.capacity_check import Fit
from spikekit.run.machine_fit import check_this_machine
from spikekit.scenarios import load_scenario

from .test_bench_platform import measurement


def test_the_bench_writes_its_knee_and_the_dry_run_reads_it_back(tmp_path: Path) -> None:
    measured = measurement("this tree", slow_from_step=2, cpu_s=3.0)  # 200 held, 400 not
    held = measured.knee.held
    assert held is not None
    path = write_capacity_figure(measured, tmp_path / "capacity.json", command="python -m bench")
    assert path == tmp_path / "capacity.json"
    figure = read_capacity(path)
    assert figure is not None
    assert figure.knee_players == 200
    assert figure.knee_rps == pytest.approx(held.rps, abs=0.01)
    assert figure.rps_per_player == pytest.approx(held.rps / held.actual_players, abs=1e-4)
    assert (figure.think_min_s, figure.think_max_s) == (1.0, 5.0)  # baseline's, the bench's
    assert set(figure.cpu_ms_by_process) == {"gateway", "toxiproxy"}
    assert figure.cpu_ms_per_request == pytest.approx(
        sum(figure.cpu_ms_by_process.values()), abs=0.01
    )
    assert figure.command == "python -m bench"
    assert figure.commit == "this tree commit"
    assert figure.cores >= 1 and len(figure.date) == 10
    cores = figure.cores  # the bench's machine is this one: no scaling
    fit = check_this_machine(load_scenario("baseline").with_overrides(scale=0.02), path, cores)
    assert fit is not None
    assert not fit.holding.estimate
    assert f"bench {figure.date}: 200 players" in fit.message()
    assert fit.fit is Fit.FITS  # 160 players at the bench's pace, 200 held


def test_no_knee_writes_nothing(tmp_path: Path) -> None:
    measured = measurement("this tree", slow_from_step=0, cpu_s=3.0)  # no step held
    assert measured.knee.held is None
    assert capacity_of(measured, "python -m bench", "2026-12-02") is None
    assert write_capacity_figure(measured, tmp_path / "capacity.json") is None
    assert not (tmp_path / "capacity.json").exists()


def test_the_shipped_figure_names_its_source_and_reads_as_the_model() -> None:
    figure = read_capacity(CAPACITY_FILE)
    assert figure is not None
    assert figure.source and figure.command.startswith(".venv/bin/python -m bench --only platform")
    assert figure.rps_per_player == pytest.approx(figure.knee_rps / figure.knee_players, rel=0.05)


def test_a_broken_figure_is_named_and_the_check_falls_back_to_the_estimate(
    tmp_path: Path,
) -> None:
    path = tmp_path / "capacity.json"
    path.write_text(json.dumps({"knee_players": 0}))
    with pytest.raises(ConfigError, match=r"capacity.json: not a platform capacity figure "):
        read_capacity(path)
    fit = check_this_machine(load_scenario("demo"), path, cores=2)
    assert fit is not None
    assert fit.holding.estimate
    assert "estimate: 2 cores x 1000 / 11 ms" in fit.message()
    assert "not a platform capacity figure (knee_players: " in fit.message()


def test_a_missing_figure_is_an_estimate_that_says_so(tmp_path: Path) -> None:
    assert read_capacity(tmp_path / "nothing.json") is None
    fit = check_this_machine(load_scenario("demo"), tmp_path / "nothing.json", cores=2)
    assert fit is not None and fit.holding.estimate
    assert "no bench figure in nothing.json" in fit.message()


def test_cpu_model_reads_the_first_model_name(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nprocessor\t: 1\nmodel name\t: x\n")
    assert cpu_model(info) == "AMD EPYC"
    assert cpu_model(tmp_path / "none") == ""
