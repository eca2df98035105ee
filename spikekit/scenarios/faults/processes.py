"""Process faults on the bundled platform's services, and Docker faults on containers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from spikekit.scenarios.durations import Duration
from spikekit.scenarios.faults.base import FaultBase, FaultFamily
from spikekit.scenarios.target import Service

# --- process: a service of the bundled platform ----------------------------------------------


class Balancer(StrEnum):
    """HAProxy in front of the gateway replicas, when the bundled platform runs it."""

    HAPROXY = "haproxy"


class _Process(FaultBase):
    family = FaultFamily.PROCESS
    target_field = "service"
    service: Service | Balancer = Field(
        description="Service of the bundled platform (or haproxy, its load balancer)."
    )
    replica: int | None = Field(default=None, ge=0, description="Which replica (none = all).")

    def target_name(self) -> str:
        return self.service.value if self.replica is None else f"{self.service}[{self.replica}]"


class ProcessSigstop(_Process):
    """SIGSTOP while the fault is on, SIGCONT on revert."""

    type: Literal["process.sigstop"]


class ProcessKill(_Process):
    type: Literal["process.kill"]
    signal: Literal["SIGKILL", "SIGTERM"] = Field(default="SIGKILL", description="Signal sent.")
    restart: bool = Field(default=True, description="Start it again (else: when fault ends).")
    restart_after: Annotated[Duration, Field(ge=0, description="Delay before the restart.")] = 0.0


# --- docker: containers of a platform of the user's own ----------------------------------------


class _Docker(FaultBase):
    family = FaultFamily.DOCKER
    target_field = "container"
    container: str = Field(pattern=r"^\S+$", description="Container name or id.")

    def target_name(self) -> str:
        return f"container:{self.container}"


class DockerPause(_Docker):
    type: Literal["docker.pause"]


class DockerStop(_Docker):
    type: Literal["docker.stop"]
    timeout_s: int = Field(default=10, ge=0, description="Grace period before SIGKILL.")


class DockerKill(_Docker):
    type: Literal["docker.kill"]
    signal: str = Field(default="SIGKILL", pattern=r"^SIG[A-Z0-9]+$", description="Signal sent.")


class DockerRestart(_Docker):
    type: Literal["docker.restart"]


class DockerDisconnect(_Docker):
    type: Literal["docker.disconnect"]
    network: str = Field(pattern=r"^\S+$", description="Docker network to disconnect from.")
