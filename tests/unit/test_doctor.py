"""``spikekit doctor`` reports this machine's real limits."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spikekit.cli.main import app
from spikekit.machine import read_port_range


def _checks() -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output  # nothing required is missing here
    body = json.loads(result.stdout)
    assert body["ok"] is True
    return {c["name"]: c for c in body["checks"]}


def test_reports_the_real_file_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    value = str(_checks()["open files"]["value"])
    assert value.startswith(f"{soft} (hard {hard};")
    assert ("cannot be raised" in value) == (soft == hard)


def test_reports_the_ephemeral_port_range() -> None:
    low, high = read_port_range() or (0, 0)
    assert low and high
    assert f"{low}-{high} ({high - low + 1} per destination" in str(
        _checks()["ephemeral ports"]["value"]
    )


def test_every_check_says_what_a_missing_piece_costs() -> None:
    for check in _checks().values():
        if check["status"] != "ok" and check["name"] != "ephemeral ports":
            assert check["cost"], check


def test_port_range_parser_tolerates_a_missing_file(tmp_path: Path) -> None:
    assert read_port_range(tmp_path / "absent") is None
    (tmp_path / "range").write_text("1024\t65535\n")
    assert read_port_range(tmp_path / "range") == (1024, 65535)


def _checks_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, dict[str, object]]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return _checks()


def test_reports_the_container_engine_and_its_version() -> None:
    check = _checks()["container engine"]
    podman = shutil.which("podman")
    if podman is not None:  # on PATH: its own version line is what doctor shows
        line = subprocess.run(["podman", "--version"], capture_output=True, text=True).stdout
        assert f"{line.strip()} ({podman})" in str(check["value"])
    elif shutil.which("docker") is None:
        assert check["status"] == "warn" and "make podman" in str(check["fix"])


def test_a_containers_conf_that_is_not_a_file_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "containers.conf"
    check = _checks_with(monkeypatch, CONTAINERS_CONF=str(missing))["containers.conf"]
    assert check["status"] == "warn"
    assert check["value"] == f"CONTAINERS_CONF={missing}: no such file"
    assert "deploy/podman/containers.conf" in str(check["fix"])


def test_a_docker_host_without_its_socket_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    socket = tmp_path / "api.sock"
    check = _checks_with(monkeypatch, DOCKER_HOST=f"unix://{socket}")["docker api"]
    assert check["status"] == "warn"
    assert check["value"] == f"DOCKER_HOST=unix://{socket}: no such socket"
    assert "podman system service" in str(check["fix"]) and "docker faults" in str(check["cost"])
