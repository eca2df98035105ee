"""The root command: version, help, and the error-to-exit-code boundary."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from spikekit import __version__
from spikekit.cli.exit_codes import ExitCode, exit_code_for
from spikekit.cli.main import app
from spikekit.errors import (
    ChaosError,
    ConfigError,
    FaultConfigError,
    InputLimitError,
    LoadError,
    RunAborted,
    ScenarioError,
    ServiceStartError,
    SpikekitError,
    StackError,
    ToxiproxyError,
    UnsafeTargetError,
)

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"spikekit {__version__}"


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("platform", "doctor", "demo", "scenarios", "report", "compare"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("bad"), ExitCode.USAGE),
        (ScenarioError("s.yaml", [("load.stages[0]", "a duration")]), ExitCode.USAGE),
        (RunAborted("stop condition"), ExitCode.ABORTED),
        (InputLimitError("bomb.yaml", "", "at most 100,000 YAML nodes"), ExitCode.USAGE),
        (FaultConfigError("network.latency", "no link 'x'"), ExitCode.USAGE),
        (UnsafeTargetError("network.down", "refusing 10.0.0.1"), ExitCode.USAGE),
        (StackError("postgres died"), ExitCode.ABORTED),  # the environment failed
        (ServiceStartError("wallet", "port in use"), ExitCode.ABORTED),
        (ToxiproxyError("connection refused"), ExitCode.ABORTED),
        (ChaosError("latency", "toxiproxy refused"), ExitCode.ABORTED),
        (LoadError("worker died"), ExitCode.ABORTED),
        (SpikekitError("anything else"), ExitCode.ABORTED),
    ],
)
def test_exit_codes(error: SpikekitError, code: ExitCode) -> None:
    assert exit_code_for(error) is code


def test_a_spikekit_error_becomes_a_message_and_its_exit_code() -> None:
    result = runner.invoke(app, ["platform", "up", "--replicas", "gateway=zero"])
    assert result.exit_code == ExitCode.USAGE
    assert "expected SERVICE=COUNT" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_service_in_replicas_is_a_usage_error() -> None:
    result = runner.invoke(app, ["platform", "up", "--replicas", "nosuch=2"])
    assert result.exit_code == ExitCode.USAGE
    assert "no service 'nosuch'" in result.stderr
