"""Docker faults without a Docker engine: construction, validation, the error when none answers.

No engine runs on this machine: pause/stop/kill/restart/disconnect against a real
container are not exercised here.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from spikekit.chaos.context import ChaosContext
from spikekit.chaos.docker import ContainerChanged, DockerFault
from spikekit.chaos.registry import build_fault
from spikekit.errors import ChaosError, UnsafeTargetError
from spikekit.scenarios.faults import DockerDisconnect, DockerKill, DockerPause


def test_each_docker_fault_knows_how_it_is_reverted() -> None:
    ctx = ChaosContext()
    pause = build_fault(DockerPause(type="docker.pause", at=0, container="web"), ctx, fault_id="p")
    cut = DockerDisconnect(type="docker.disconnect", at=0, container="web", network="backend")
    assert isinstance(pause, DockerFault) and pause.revert_action == "unpause"
    assert build_fault(cut, ctx, fault_id="d").revert_action == "connect"  # type: ignore[attr-defined]
    assert pause.target == "container:web"


def test_bad_parameters_are_refused_by_the_model() -> None:
    with pytest.raises(ValidationError, match="signal"):
        DockerKill(type="docker.kill", at=0, container="web", signal="kill -9")


def test_no_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    ctx = ChaosContext(docker_url="unix:///nonexistent/docker.sock")
    fault = build_fault(DockerPause(type="docker.pause", at=0, container="web"), ctx, fault_id="p")
    with pytest.raises(ChaosError, match="no Docker engine answers at unix:///nonexistent"):
        fault.inject()
    assert not fault.active


def test_a_remote_engine_needs_allow_target() -> None:
    record = ContainerChanged(docker_url="tcp://10.0.0.1:2375", container="web", action="start")
    with pytest.raises(UnsafeTargetError, match=r"--allow-target 10\.0\.0\.1"):
        record.undo(ChaosContext())
