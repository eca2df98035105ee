"""``spikekit chaos`` commands that need no platform: list, plan, bad parameters."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from spikekit.chaos.registry import unsupported_types
from spikekit.cli import chaos
from spikekit.cli.main import _SpikekitGroup

root = typer.Typer(cls=_SpikekitGroup)
root.add_typer(chaos.app, name="chaos")
runner = CliRunner()


def test_every_scenario_fault_type_has_an_executor() -> None:
    assert unsupported_types() == []


def test_list_shows_every_fault_with_parameters_and_defaults() -> None:
    result = runner.invoke(root, ["chaos", "list", "--json"])
    assert result.exit_code == 0
    assert '"type": "network.latency"' in result.output
    assert '"name": "jitter_ms"' in result.output and '"default": "0"' in result.output


def test_plan_prints_the_timeline_and_touches_nothing(tmp_path: Path) -> None:
    result = runner.invoke(root, ["chaos", "plan", "db-brownout"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "accounts-lock" in result.output and "db-restart" in result.output


def test_bad_parameters_exit_2_naming_them(tmp_path: Path) -> None:
    args = [
        "chaos",
        "inject",
        "network.latency",
        "--target",
        "gateway-postgres",
        "--param",
        "latency_ms=-5",
        "--state-dir",
        str(tmp_path),
    ]
    result = runner.invoke(root, args)
    assert result.exit_code == 2
    assert "--param latency_ms" in result.output


def test_an_unknown_fault_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(
        root, ["chaos", "inject", "network.meteor", "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 2 and "unknown fault 'network.meteor'" in result.output


def test_a_remote_toxiproxy_is_refused_without_allow_target(tmp_path: Path) -> None:
    args = [
        "chaos",
        "inject",
        "network.down",
        "--target",
        "db",
        "--toxiproxy",
        "http://10.0.0.1:8474",
        "--state-dir",
        str(tmp_path),
    ]
    result = runner.invoke(root, args)
    assert result.exit_code == 2  # a usage error: the user must opt in
    assert "--allow-target 10.0.0.1" in result.output


def test_revert_without_a_journal_says_so(tmp_path: Path) -> None:
    result = runner.invoke(root, ["chaos", "revert", "--all", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "no journal" in result.output  # nothing to act on
