"""Control a stack from outside its supervisor: start it detached, inspect it, bring it down."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from pydantic import BaseModel

from spikekit.errors import StackError
from spikekit.ports import is_listening
from spikekit.processes import terminate_refs, wait_until
from spikekit.reference_platform import state as state_file
from spikekit.reference_platform.haproxy import read_servers
from spikekit.reference_platform.redis_server import ping
from spikekit.reference_platform.state import BalancerInfo, StackState

DETACHED_START_TIMEOUT_S = 120.0


class ServiceStatus(BaseModel):
    name: str
    service: str
    replica: int
    pid: int
    url: str
    alive: bool
    health: str  # "ok", "degraded", "down"


class BackingStatus(BaseModel):
    kind: str
    pid: int
    host: str
    port: int
    address: str
    alive: bool
    health: str


class BalancedServer(BaseModel):
    """One server behind HAProxy as its statistics say now."""

    backend: str
    server: str
    status: str  # UP, DOWN, "UP 1/2", "no check" (a fail-open backup) ...
    up: bool
    check: str  # last health check: L7OK, L4CON, L7STS ...
    sessions: int
    queue: int
    backup: bool


class BalancerStatus(BaseModel):
    pid: int
    port: int
    url: str
    stats_url: str
    alive: bool
    health: str  # "ok": answers and a health-checked server is up; "degraded"; "down"
    servers: list[BalancedServer] = []


class PlatformStatus(BaseModel):
    running: bool
    state_dir: str
    status: str | None = None
    profile: str | None = None
    players: int = 0
    supervisor_pid: int | None = None
    toxiproxy_api: str | None = None
    balancer: BalancerStatus | None = None
    services: list[ServiceStatus] = []
    backing: list[BackingStatus] = []
    links: list[state_file.LinkInfo] = []


def running_state(state_dir: Path) -> StackState | None:
    """The state of a stack whose supervisor is still alive, else None."""
    state = state_file.load(state_dir)
    if state is None or not state.supervisor.ref().is_alive():
        return None
    return state


def start_detached(state_dir: Path, up_args: list[str]) -> StackState:
    """Run ``spikekit platform up`` in its own session; return once the stack is ready."""
    if running_state(state_dir) is not None:
        raise StackError(f"a platform is already running from {state_dir}")
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "supervisor.log"
    argv = [sys.executable, "-m", "spikekit", "platform", "up", "--state-dir", str(state_dir)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*argv, *up_args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command and its terminal
        )

    def ready() -> bool:
        current = state_file.load(state_dir)
        return (
            current is not None
            and current.status == "ready"
            and (current.supervisor.pid == process.pid)
        )

    if not wait_until(
        ready, timeout=DETACHED_START_TIMEOUT_S, interval=0.1, alive=lambda: process.poll() is None
    ):
        if process.poll() is None:
            process.terminate()
            process.wait(30)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise StackError(f"the platform did not start (log: {log})\n{tail}")
    current = state_file.load(state_dir)
    assert current is not None
    return current


def _http_health(client: httpx.Client, url: str) -> str:
    try:
        response = client.get(f"{url}/health")
    except httpx.HTTPError:
        return "down"
    return "ok" if response.status_code == 200 else "degraded"


def balancer_status(info: BalancerInfo, timeout: float = 2.0) -> BalancerStatus:
    """HAProxy's PID and port, and each server up or down from its statistics."""
    alive = info.ref().is_alive()
    rows = read_servers(info.stats_url, timeout) if alive else None
    servers = [
        BalancedServer(**vars(row), up=row.up) for row in rows or [] if row.server != "BACKEND"
    ]
    checked_up = any(s.up for s in servers if not s.backup)
    health = "down" if rows is None else "ok" if checked_up else "degraded"
    port = int(info.url.rsplit(":", 1)[1])
    return BalancerStatus(
        pid=info.pid,
        port=port,
        url=info.url,
        stats_url=info.stats_url,
        alive=alive,
        health=health,
        servers=servers,
    )


def status(state_dir: Path, timeout: float = 2.0) -> PlatformStatus:
    state = running_state(state_dir)
    if state is None:
        return PlatformStatus(running=False, state_dir=str(state_dir))
    services: list[ServiceStatus] = []
    with httpx.Client(timeout=timeout) as client:
        for s in state.services:
            alive = s.ref().is_alive()
            services.append(
                ServiceStatus(
                    name=s.name,
                    service=s.service,
                    replica=s.replica,
                    pid=s.pid,
                    url=s.url,
                    alive=alive,
                    health=_http_health(client, s.url) if alive else "down",
                )
            )
    backing: list[BackingStatus] = []
    for b in state.backing:
        alive = b.ref().is_alive()
        answers = ping(b.port) if b.kind == "redis" else is_listening(b.port)
        backing.append(
            BackingStatus(
                kind=b.kind,
                pid=b.pid,
                host=b.host,
                port=b.port,
                address=b.address,
                alive=alive,
                health="ok" if alive and answers else "down",
            )
        )
    return PlatformStatus(
        running=True,
        state_dir=state.state_dir,
        status=state.status,
        profile=state.profile,
        players=state.players,
        supervisor_pid=state.supervisor.pid,
        toxiproxy_api=state.toxiproxy_api,
        balancer=balancer_status(state.balancer, timeout) if state.balancer else None,
        services=services,
        backing=backing,
        links=state.links,
    )


def down(state_dir: Path, timeout: float = 30.0) -> list[str]:
    """Stop the stack started from ``state_dir``; returns what was stopped (empty: nothing ran).

    The supervisor is asked first (SIGTERM: it stops its children in order); any
    child it left behind is then stopped by its recorded PID and start time.
    """
    state = state_file.load(state_dir)
    if state is None:
        return []
    stopped: list[str] = []
    supervisor = state.supervisor.ref()
    if supervisor.is_alive():
        stopped.append(f"supervisor (PID {supervisor.pid})")
        survivors = terminate_refs([supervisor], timeout=timeout)
        if survivors:
            raise StackError(f"supervisor PID {supervisor.pid} did not stop")
    leftovers = [p.ref() for p in state.processes() if p.ref().is_alive()]
    stopped += [f"{ref.name} (PID {ref.pid})" for ref in leftovers]
    survivors = terminate_refs(leftovers)
    if survivors:
        names = ", ".join(f"{r.name} (PID {r.pid})" for r in survivors)
        raise StackError(f"could not stop: {names}")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(p.ref().is_alive() for p in state.processes()):
        time.sleep(0.05)
    return stopped
