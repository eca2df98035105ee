"""``spikekit run --dry-run`` compares the scenario's peak with what this machine's bundled
platform holds (docs/capacity.md), from the figure kept in the package."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from spikekit.cli.main import app
from spikekit.reference_platform.capacity import read_capacity
from spikekit.scenarios import load_scenario

runner = CliRunner()
BENCH = read_capacity()  # the figure the package ships: the test follows it when it changes


def dry_run(*args: str) -> str:
    result = runner.invoke(app, ["run", *args, "--dry-run"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def fitting_scale(output: str) -> str:
    found = re.search(r"Use --scale ([0-9.]+) to fit", output)
    assert found, output
    return found.group(1)


def test_the_shipped_figure_is_readable() -> None:
    assert BENCH is not None
    assert BENCH.knee_players >= 1 and BENCH.cores >= 1


def test_influencer_spike_is_far_beyond_and_the_scale_that_fits_is_given() -> None:
    assert BENCH is not None
    output = dry_run("influencer-spike")
    assert "warning: beyond this machine: influencer-spike peaks at 120,000 players" in output
    assert f"(bench {BENCH.date}: " in output
    assert "x beyond. Use --scale " in output
    assert "--target URL for a platform of your own" in output
    scale = fitting_scale(output)
    assert 0.0005 < float(scale) < 0.05  # a few hundred of the 120,000 players
    fitted = dry_run("influencer-spike", "--scale", scale)
    assert "beyond this machine" not in fitted
    assert "it fits." in fitted


def test_baseline_is_beyond_this_machine_too() -> None:
    output = dry_run("baseline")
    assert "warning: beyond this machine: baseline peaks at 8,000 players" in output
    assert "it fits." in dry_run("baseline", "--scale", fitting_scale(output))


def test_the_demo_fits_and_says_so_without_a_warning() -> None:
    output = dry_run("demo")
    assert "machine: demo peaks at 210 players" in output
    assert "it fits." in output
    assert "warning" not in output


def test_a_scaled_run_is_judged_after_the_scale() -> None:
    output = dry_run("influencer-spike", "--scale", "0.01")
    assert "influencer-spike peaks at 1,200 players" in output


def test_a_platform_of_your_own_gets_no_word_about_the_bundled_one() -> None:
    output = dry_run("influencer-spike", "--target", "http://127.0.0.1:8080")
    assert "bundled platform holds" not in output
    assert "beyond this machine" not in output


def test_a_scenario_file_is_named_as_the_user_named_it(tmp_path: Path) -> None:
    scenario = tmp_path / "my-spike.yaml"
    scenario.write_text(
        load_scenario("influencer-spike").model_copy(update={"name": "mine"}).model_dump_json()
    )
    output = dry_run(str(scenario))
    assert "warning: beyond this machine: mine peaks at 120,000 players" in output
    assert (  # the plan command, given the file; or, without it, the scaling-out page
        f"`spikekit plan {scenario}` for what 120,000 players need" in output
        or "or replicas on more machines (docs/scaling-out.md)" in output
    )
