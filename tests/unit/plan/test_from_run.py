"""A plan's costs from a step run (``spikekit plan --from-run``): the knee, the CPU per
request per service, and a clear refusal when the run cannot give them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from spikekit.analysis.rundir import load_run
from spikekit.analysis.step_costs import SETTLE_S, plateaus, step_costs
from spikekit.analysis.synthetic import Disturbance, SyntheticRun, write_synthetic_run
from spikekit.cli.main import app
from spikekit.errors import ConfigError
from spikekit.plan.from_run import costs_from_run

runner = CliRunner()
STEPS = ((20, 100), (20, 200), (20, 300))  # the top step is overloaded below
CPU = (
    ("gateway", "scraped_cpu_percent", 1.5),  # a platform of the user's own: the scrape
    ("wallet", "process_cpu_percent", 2.0),  # psutil
)


def step_run(tmp_path: Path, **fields: object) -> Path:
    document: dict[str, object] = {
        "duration_s": 60,
        "steps": STEPS,
        "requests_per_player_s": 0.3,
        "cpu_ms_per_request": CPU,
        "disturbances": (Disturbance(45, 60, latency_factor=10.0),),
    }
    spec = SyntheticRun(**(document | fields))  # type: ignore[arg-type]
    return write_synthetic_run(tmp_path / "run", spec)


def test_plateaus_are_the_held_player_counts() -> None:
    target = [0.0] * 5 + [10.0] * 12 + [20.0] * 4 + [30.0] * 10
    assert plateaus(np.array(target)) == [(5, 17, 10), (21, 31, 30)]


def test_the_knee_is_the_top_step_held_and_its_cost_is_the_cpu_per_request(
    tmp_path: Path,
) -> None:
    found = step_costs(load_run(step_run(tmp_path)))
    assert [s.target for s in found.steps] == [100, 200, 300]
    assert [s.held for s in found.steps] == [True, True, False]
    assert found.steps[2].why_not is not None and "SLOs met in only" in found.steps[2].why_not
    knee = found.knee
    assert knee is not None and knee.target == 200 and not found.censored
    assert knee.start_s == 20 + SETTLE_S
    costs = found.costs()
    assert costs["gateway"][0] == pytest.approx(1.5, rel=0.02)
    assert costs["wallet"][0] == pytest.approx(2.0, rel=0.02)


def test_costs_from_run_feed_the_plan(tmp_path: Path) -> None:
    measured = costs_from_run(step_run(tmp_path))
    assert measured.knee_players == 200
    assert measured.knee_rps == pytest.approx(60, rel=0.05)
    assert {c.part for c in measured.costs} == {"gateway", "wallet"}
    assert "step run run" in measured.source and "knee 200 players" in measured.source


def test_a_run_without_cpu_telemetry_is_refused_saying_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="process_cpu_seconds_total"):
        costs_from_run(step_run(tmp_path, cpu_ms_per_request=()))


def test_a_run_that_held_no_step_is_refused_with_each_steps_reason(tmp_path: Path) -> None:
    run = step_run(tmp_path, disturbances=(Disturbance(0, 60, error_rate=0.2),))
    with pytest.raises(ConfigError, match=r"no step held.*100 players: .*errors 20\.0%"):
        costs_from_run(run)


def test_a_ramp_without_steps_is_refused(tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "ramp", SyntheticRun(duration_s=60, ramp=(0.0, 1.0)))
    with pytest.raises(ConfigError, match="no step of 10 s or more"):
        costs_from_run(run)


def test_the_cli_plans_from_a_run_and_refuses_costs_with_it(tmp_path: Path) -> None:
    run = str(step_run(tmp_path))
    result = runner.invoke(app, ["plan", "baseline", "--from-run", run, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert {p["part"] for p in plan["parts"]} == {"gateway", "wallet"}
    assert plan["measured"]["source"].startswith("step run run")
    both = runner.invoke(app, ["plan", "baseline", "--from-run", run, "--costs", run])
    assert both.exit_code == 2
    missing = runner.invoke(app, ["plan", "baseline", "--from-run", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
