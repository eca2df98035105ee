"""``spikekit run --dry-run`` predicts whether this machine's workers can follow the shape."""

from __future__ import annotations

from typer.testing import CliRunner

from spikekit.cli.main import app

runner = CliRunner()


def dry_run(*args: str) -> str:
    result = runner.invoke(app, ["run", *args, "--dry-run"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_influencer_spike_at_full_scale_warns_that_its_start_lags() -> None:
    output = dry_run("influencer-spike", "--workers", "2")
    assert "predicted tracking error 0.00% (2 workers spawn 5,800 users/s" in output
    assert (
        "warning: the shape cannot be followed: 0 → 8,000 players at the start needs "
        "8,000 users/s, 2 workers spawn 5,800/s" in output
    )
    assert "for 1 s (from t = 0 s, worst 28%)" in output


def test_three_workers_follow_influencer_spike() -> None:
    output = dry_run("influencer-spike", "--workers", "3")
    assert "8,700 users/s; 0 s more than 10% off the target" in output
    assert "cannot be followed" not in output


def test_the_demo_does_not_warn() -> None:
    output = dry_run("demo", "--workers", "2")
    assert "predicted tracking error" in output
    assert "cannot be followed" not in output
    assert "warning" not in output


def test_step_surges_warn_once_each() -> None:
    output = dry_run("sports-final", "--workers", "2")
    assert output.count("the shape cannot be followed") == 5
    assert "40,000 → 80,000 players at 5m needs 40,000 users/s" in output
