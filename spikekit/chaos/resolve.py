"""Every scheduled fault resolved against the target before anything starts.

:func:`resolve_faults` answers, per fault of the schedule, what it will touch on this
target (a Toxiproxy proxy, a provider simulator's control API, the PostgreSQL or Redis of
the stack, a service's process, a container on an engine) or why it cannot run there and
what provides the missing part. It starts nothing and opens no connection: the bundled
platform offers every family by construction (network faults only when a
``toxiproxy-server`` is installed or ``--toxiproxy`` is given); a platform of the user's own
(``--target URL``) offers network faults through ``--toxiproxy URL`` and Docker faults
through the container engine (``DOCKER_HOST`` or the local socket), nothing else.

:func:`refuse_unresolved` turns the faults that cannot run into one
:class:`~spikekit.errors.ConfigError` (exit 2), one line per fault.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spikekit.chaos.docker import DEFAULT_SOCKET
from spikekit.errors import ConfigError
from spikekit.scenarios.faults import FaultBase, FaultFamily
from spikekit.scenarios.faults.steady import unknown_slos
from spikekit.scenarios.model import Scenario
from spikekit.scenarios.target import PlatformTarget
from spikekit.toxiproxy.server import find_toxiproxy_server

__all__ = ["Available", "FaultResolution", "available_for", "refuse_unresolved", "resolve_faults"]


@dataclass(frozen=True)
class Available:
    """What the target offers the chaos engine, as known before the run starts."""

    bundled: bool
    #: The Toxiproxy API the network faults use ("bundled" when the stack starts its own).
    toxiproxy: str | None
    #: The container engine the Docker faults use (None: no engine found).
    docker: str | None


@dataclass(frozen=True)
class FaultResolution:
    """One fault: what it will touch, or what it needs and how to provide it."""

    fault_id: str
    type: str
    touches: str | None = None
    needs: str | None = None

    @property
    def ok(self) -> bool:
        return self.needs is None


def _docker_engine(env: dict[str, str]) -> str | None:
    url = env.get("DOCKER_HOST")
    if url:
        return url
    socket = DEFAULT_SOCKET.removeprefix("unix://")
    return DEFAULT_SOCKET if Path(socket).exists() else None


def available_for(
    scenario: Scenario,
    *,
    toxiproxy_url: str | None,
    env: dict[str, str] | None = None,
    find_toxiproxy: Callable[[], Path | None] = find_toxiproxy_server,
) -> Available:
    """What ``scenario.target`` offers given the run's options (nothing is contacted)."""
    engine = _docker_engine(dict(os.environ) if env is None else env)
    if isinstance(scenario.target, PlatformTarget):
        proxy = toxiproxy_url or ("bundled" if find_toxiproxy() is not None else None)
        return Available(bundled=True, toxiproxy=proxy, docker=engine)
    return Available(bundled=False, toxiproxy=toxiproxy_url, docker=engine)


_BUNDLED_ONLY = {
    FaultFamily.PROVIDER: "a provider control API (the bundled platform's game-studio "
    "simulators; a platform of your own has none: run it against the bundled platform)",
    FaultFamily.DATABASE: "a database URL (the bundled platform's PostgreSQL; faults on "
    "your own database are not supported with --target)",
    FaultFamily.CACHE: "a Redis address (the bundled platform's Redis; not available with "
    "--target)",
    FaultFamily.QUEUE: "the bundled platform's Redis Streams and consumers (not available "
    "with --target)",
    FaultFamily.PROCESS: "the bundled platform's service processes (PIDs from its "
    "supervisor; for your own services in containers use docker.* faults)",
}


def _provider(name: str) -> str:
    if name == "busiest":
        return "the control API of the studio with the most rounds when it starts"
    return f"the control API of {name}"


def _resolve(spec: FaultBase, fault_id: str, have: Available) -> FaultResolution:
    target = spec.target_name()
    family = spec.family

    def ok(touches: str) -> FaultResolution:
        return FaultResolution(fault_id, spec.type, touches=touches)

    def no(needs: str) -> FaultResolution:
        return FaultResolution(fault_id, spec.type, needs=needs)

    if family is FaultFamily.NETWORK:
        if have.toxiproxy is None:
            how = (
                "install it (make install builds toxiproxy-server into .tools/bin) or give "
                "--toxiproxy URL"
                if have.bundled
                else "give --toxiproxy URL (your Toxiproxy in front of that link)"
            )
            return no(f"a Toxiproxy API: {how}")
        where = (
            "the bundled platform's Toxiproxy"
            if have.toxiproxy == "bundled"
            else (f"Toxiproxy at {have.toxiproxy}")
        )
        return ok(f"proxy {target} on {where}")
    if family is FaultFamily.DOCKER:
        if have.docker is None:
            return no(
                "a container engine: set DOCKER_HOST (e.g. unix:///run/podman/podman.sock) "
                f"or run one on {DEFAULT_SOCKET}"
            )
        return ok(f"{target} on the engine at {have.docker}")
    if not have.bundled:
        return no(_BUNDLED_ONLY[family])
    touches = {
        FaultFamily.PROVIDER: _provider(target.removeprefix("provider:")),
        FaultFamily.DATABASE: "the bundled PostgreSQL (127.0.0.1, in the run folder)",
        FaultFamily.CACHE: "the bundled Redis (127.0.0.1, in the run folder)",
        FaultFamily.QUEUE: f"{target} on the bundled Redis",
        FaultFamily.PROCESS: f"the process of service {target} (its PID from stack.json)",
    }[family]
    return ok(touches)


def resolve_faults(scenario: Scenario, have: Available) -> list[FaultResolution]:
    """Every fault of the schedule, in order, resolved against what the target offers
    (and its ``steady_state`` SLOs against the scenario's SLOs, by name)."""
    known = [slo.name for slo in scenario.slos]
    resolutions: list[FaultResolution] = []
    for index, spec in enumerate(scenario.faults):
        fault_id = spec.fault_id(index)
        unknown = unknown_slos(scenario.steady_state_for(spec), known)  # own or default
        if unknown:
            names = ", ".join(repr(n) for n in known) or "none"
            needs = (
                f"steady_state.slos naming the scenario's SLOs "
                f"(unknown: {', '.join(unknown)}; known: {names})"
            )
            resolutions.append(FaultResolution(fault_id, spec.type, needs=needs))
            continue
        resolutions.append(_resolve(spec, fault_id, have))
    return resolutions


def refuse_unresolved(resolutions: list[FaultResolution]) -> None:
    """ConfigError (exit 2) with one line per fault the target cannot take; else nothing."""
    refused = [r for r in resolutions if not r.ok]
    if not refused:
        return
    lines = [
        f"fault {r.fault_id} ({r.type}): this target cannot take it; needs {r.needs}"
        for r in refused
    ]
    raise ConfigError("\n".join(lines))
