"""What a running stack looks like, saved as ``stack.json`` in its state folder.

``platform status`` and ``platform down`` read it; it records every process by
PID and start time so that only processes we started are ever signalled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from spikekit.errors import StackError
from spikekit.processes import ProcessRef

STATE_FILE = "stack.json"


class ProcessInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    pid: int
    create_time: float
    log: str

    def ref(self) -> ProcessRef:
        return ProcessRef(self.name, self.pid, self.create_time)


class BackingInfo(ProcessInfo):
    kind: str
    host: str
    port: int
    address: str  # a DSN or URL a client can use directly


class ServiceInfo(ProcessInfo):
    service: str
    replica: int
    port: int
    url: str


class BalancerInfo(ProcessInfo):
    """HAProxy in front of one service's replicas."""

    backend: str  # the service it balances
    url: str  # where the players connect
    stats_url: str  # /metrics (Prometheus exporter), /stats
    config: str  # the haproxy.cfg it runs with


class LinkInfo(BaseModel):
    """A Toxiproxy proxy between a service and one dependency."""

    model_config = ConfigDict(extra="forbid")

    name: str
    service: str
    dependency: str
    listen: str
    upstream: str


class StackState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["starting", "ready", "stopping", "stopped"]
    state_dir: str
    profile: str
    players: int = 0  # seeded players (accounts and logins)
    supervisor: ProcessInfo
    toxiproxy_api: str | None = None
    toxiproxy: ProcessInfo | None = None
    balancer: BalancerInfo | None = None  # absent from the files of older stacks
    backing: list[BackingInfo] = []
    services: list[ServiceInfo] = []
    links: list[LinkInfo] = []

    def processes(self) -> list[ProcessInfo]:
        """Every child process, the balancer and services first (they are stopped first)."""
        children: list[ProcessInfo] = [self.balancer] if self.balancer is not None else []
        children += self.services
        if self.toxiproxy is not None:
            children.append(self.toxiproxy)
        return [*children, *self.backing]

    def backing_address(self, kind: str) -> str | None:
        return next((b.address for b in self.backing if b.kind == kind), None)


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def save(state: StackState, state_dir: Path) -> None:
    """Write atomically, so a reader never sees half a file."""
    path = state_path(state_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.model_dump_json(indent=2))
    tmp.replace(path)


def load(state_dir: Path) -> StackState | None:
    """The saved state, or None when no stack was started from this folder."""
    path = state_path(state_dir)
    try:
        return StackState.model_validate_json(path.read_text())
    except FileNotFoundError:
        return None
    except (ValidationError, ValueError) as error:
        raise StackError(f"{path}: unreadable stack state ({error})") from error
