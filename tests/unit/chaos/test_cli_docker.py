"""``spikekit chaos inject`` of a docker fault needs an engine, not Toxiproxy or a platform."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from spikekit.cli import chaos
from spikekit.cli.main import _SpikekitGroup

root = typer.Typer(cls=_SpikekitGroup)
root.add_typer(chaos.app, name="chaos")
runner = CliRunner()


def _inject(tmp_path: Path, fault: str, target: str) -> tuple[int, str]:
    args = ["chaos", "inject", fault, "--target", target, "--state-dir", str(tmp_path / "none")]
    result = runner.invoke(root, args, terminal_width=200)
    return result.exit_code, result.output


def test_a_docker_fault_asks_for_the_engine_not_for_toxiproxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = tmp_path / "absent.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    code, output = _inject(tmp_path, "docker.pause", "web-1")
    assert "--toxiproxy" not in output and "no platform is running" not in output, output
    assert code == 3  # the fault could not act: no engine answers there
    assert f"no Docker engine answers at unix://{socket}" in " ".join(output.split())


def test_a_network_fault_still_asks_for_toxiproxy_or_a_platform(tmp_path: Path) -> None:
    code, output = _inject(tmp_path, "network.down", "db")
    assert code == 2
    assert "no platform is running" in output and "--toxiproxy URL" in output
