"""The stack supervisor: starts PostgreSQL, Redis, Toxiproxy, the services and HAProxy,
stops all of it.

Start order: backing services, then Toxiproxy with one proxy per link between a
service and a dependency, then the services (each pointed at its links), then
wait until every ``/health`` answers 200, then HAProxy in front of the gateway
replicas when the spec wants it (:attr:`StackSpec.balanced`; :mod:`.haproxy`). Every
child dies with the supervisor (parent-death signal), and ``stop()`` runs on every exit
path of ``with Stack``.

Each start draws new keys (:class:`~.common.service_auth.StackKeys`): one per calling
service and one wallet secret (and session secret) per studio, handed to each process
in its ``SPIKEKIT_*`` variables: a caller gets its own key, a called service only the
keys of the callers it accepts. They are saved as ``keys.json`` (0600) in the state
folder for the owner's tools and tests while the stack runs, and removed when it
stops; see docs/security.md.

What happens to the stack's processes is the supervisor's to tell: :meth:`Stack.watch`
(called each second by ``wait_forever`` and by a run) notices a process that exited (its
exit code or signal) and one that was started again (a chaos fault's restart, by the
control channel), returns them as :class:`ProcessEvent` and writes them as operator lines
(:mod:`.common.oplog`) to ``logs/supervisor.log``. The supervisor does not restart a
process on its own (neither a service nor HAProxy): a fault's revert does.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

import httpx

from spikekit.errors import ServiceStartError, StackError
from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import ManagedProcess, spawn, stop_together, wait_until
from spikekit.reference_platform import state as state_file
from spikekit.reference_platform.common.oplog import OpLog
from spikekit.reference_platform.common.service_auth import (
    STUDIO_PREFIX,
    StackKeys,
    all_callers,
    caller_of,
    callers_of,
)
from spikekit.reference_platform.control_api import StackControl
from spikekit.reference_platform.haproxy import (
    INSTALL_HINT,
    HAProxyServer,
    Upstream,
    balancer_config,
    find_haproxy,
)
from spikekit.reference_platform.links import LinkPlan, Toxiproxy, plan_links
from spikekit.reference_platform.population import seed_population
from spikekit.reference_platform.postgres import PostgresServer
from spikekit.reference_platform.providers.catalogue import STUDIOS
from spikekit.reference_platform.redis_server import RedisServer
from spikekit.reference_platform.spec import BALANCED_SERVICE, Backing, ServiceSpec, StackSpec
from spikekit.reference_platform.state import (
    BackingInfo,
    BalancerInfo,
    ProcessInfo,
    ServiceInfo,
    StackState,
)

HEALTH_TIMEOUT_S = 60.0
SUPERVISOR_LOG = "supervisor.log"  # in logs/, next to the services'


@dataclass(frozen=True)
class ProcessEvent:
    """A process of the stack that exited, or was started again."""

    kind: Literal["exited", "restarted"]
    name: str  # as in stack.json: gateway-2, haproxy, postgres ...
    pid: int
    exit_code: int | None = None  # negative: killed by that signal
    previous_pid: int | None = None  # restarted: the PID it had before

    @property
    def detail(self) -> str:
        if self.kind == "restarted":
            return f"{self.name} started again (PID {self.pid}, was {self.previous_pid})"
        return f"{self.name} (PID {self.pid}) {exit_text(self.exit_code)}"


def exit_text(code: int | None) -> str:
    """``exited with code 1``, ``killed by SIGKILL``."""
    if code is None:
        return "is running"
    if code >= 0:
        return f"exited with code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def _info(process: ManagedProcess) -> ProcessInfo:
    return ProcessInfo(
        name=process.name,
        pid=process.pid,
        create_time=process.ref.create_time,
        log=str(process.log_file),
    )


class _Replica:
    def __init__(self, spec: ServiceSpec, index: int, process: ManagedProcess, port: int) -> None:
        self.spec = spec
        self.index = index
        self.process = process
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def info(self) -> ServiceInfo:
        return ServiceInfo(
            **_info(self.process).model_dump(),
            service=self.spec.name,
            replica=self.index,
            port=self.port,
            url=self.url,
        )


class Stack:
    """One running reference platform in ``state_dir``. Use as a context manager."""

    def __init__(self, spec: StackSpec, state_dir: Path) -> None:
        self.spec = spec
        self.state_dir = state_dir.resolve()
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.toxiproxy: Toxiproxy | None = None
        self.links: LinkPlan | None = None
        self.replicas: list[_Replica] = []
        self.balancer: HAProxyServer | None = None
        self.state: StackState | None = None
        self.seeded_players = 0
        self.keys = _keys_for(spec)
        self._keys_file: Path | None = None  # written by this stack, removed when it stops
        self.oplog: OpLog | None = None  # logs/supervisor.log while the stack runs
        self._log_stream: TextIO | None = None
        self._seen: dict[str, ManagedProcess] = {}  # the process last seen under each name
        self._reported: set[int] = set()  # PIDs whose exit was reported

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- start -------------------------------------------------------------------------

    def start(self) -> StackState:
        self._claim_state_dir()
        try:
            self._start_backing()
            self.toxiproxy = Toxiproxy.start_if_wanted(self.spec.toxiproxy, self.state_dir)
            self.links = plan_links(self.spec, self._backing_ports(), self.toxiproxy)
            self._start_services()
            self.save("starting")
            self._wait_healthy()
            self._start_balancer()
            self._seed()
        except BaseException:
            self.stop()
            raise
        return self.save("ready")

    def _claim_state_dir(self) -> None:
        previous = state_file.load(self.state_dir) if self.state_dir.exists() else None
        if previous is not None and previous.supervisor.ref().is_alive():
            raise StackError(
                f"a platform is already running from {self.state_dir} "
                f"(supervisor PID {previous.supervisor.pid}); run 'spikekit platform down' first"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._keys_file = self.keys.save(self.state_dir)
        (self.state_dir / "logs").mkdir(exist_ok=True)
        self._log_stream = (self.state_dir / "logs" / SUPERVISOR_LOG).open("a", encoding="utf-8")
        self.oplog = OpLog("supervisor/0", self._log_stream)

    def _start_backing(self) -> None:
        if Backing.POSTGRES in self.spec.backing:
            self.postgres = PostgresServer(self.state_dir / "postgres")
            self.postgres.start()
        if Backing.REDIS in self.spec.backing:
            self.redis = RedisServer(self.state_dir / "redis")
            self.redis.start()

    def _backing_ports(self) -> dict[Backing, int]:
        ports: dict[Backing, int] = {}
        if self.postgres is not None:
            ports[Backing.POSTGRES] = self.postgres.port
        if self.redis is not None:
            ports[Backing.REDIS] = self.redis.port
        return ports

    def _start_services(self) -> None:
        assert self.links is not None
        ports = {(s.name, i): free_port() for s in self.spec.services for i in range(s.replicas)}
        self.links.route_services(ports)
        for service in self.spec.services:
            for index in range(service.replicas):
                port = ports[(service.name, index)]
                env = self.service_env(service, index, port)
                name = service.name if service.replicas == 1 else f"{service.name}-{index + 1}"
                process = spawn(
                    name,
                    [
                        sys.executable,
                        "-m",
                        "spikekit.reference_platform.serve",
                        service.app,
                        str(port),
                    ],
                    self.state_dir / "logs" / f"{name}.log",
                    env=env,
                )
                self.replicas.append(_Replica(service, index, process, port))

    def service_env(self, service: ServiceSpec, index: int, port: int) -> dict[str, str]:
        return {**os.environ, **self.platform_env(service, index, port)}

    def platform_env(self, service: ServiceSpec, index: int, port: int) -> dict[str, str]:
        """What the supervisor sets for one replica, without the inherited environment:
        a deployment elsewhere sets the same (deploy/helm/ is checked against it)."""
        assert self.links is not None
        env = dict(
            SPIKEKIT_SERVICE=service.name,
            SPIKEKIT_REPLICA=str(index),
            SPIKEKIT_PORT=str(port),
            SPIKEKIT_PROFILE=self.spec.profile.value,
        )
        env.update(self.links.env_for(service))
        env.update(self.key_env(service.name))
        return env

    def key_env(self, name: str) -> dict[str, str]:
        """The keys one service's processes are given: its own, and its callers'."""
        env = {"SPIKEKIT_CALLER_KEYS": json.dumps(self.keys.verifier_keys(name))}
        caller = caller_of(name)
        env["SPIKEKIT_CALLER_KEY"] = self.keys.callers.get(caller, "")
        if name == "wallet":
            env["SPIKEKIT_WALLET_PROVIDER_SECRETS"] = json.dumps(self.keys.studios)
        studio = name.removeprefix(STUDIO_PREFIX)
        if name.startswith(STUDIO_PREFIX) and studio in self.keys.studios:
            env["SPIKEKIT_PROVIDER_WALLET_SECRET"] = self.keys.studios[studio]
            env["SPIKEKIT_PROVIDER_SESSION_SECRET"] = self.keys.sessions[studio]
        return env

    def _wait_healthy(self) -> None:
        with httpx.Client(timeout=2.0) as client:
            for replica in self.replicas:
                process = replica.process

                def healthy(url: str = replica.url) -> bool:
                    try:
                        return client.get(f"{url}/health").status_code == 200
                    except httpx.HTTPError:
                        return False

                def alive(p: ManagedProcess = process) -> bool:
                    return p.poll() is None

                if not wait_until(healthy, timeout=HEALTH_TIMEOUT_S, interval=0.1, alive=alive):
                    reason = (
                        "exited" if not alive() else f"unhealthy after {HEALTH_TIMEOUT_S:.0f} s"
                    )
                    raise ServiceStartError(
                        process.name, f"{reason}\n{process.log_tail()}", str(process.log_file)
                    )

    def _start_balancer(self) -> None:
        if not self.spec.balanced:
            return
        binary = find_haproxy()
        if binary is None:
            raise StackError(INSTALL_HINT)
        upstreams = [
            Upstream(r.process.name, r.port)
            for r in self.replicas
            if r.spec.name == BALANCED_SERVICE
        ]
        config = balancer_config(BALANCED_SERVICE, upstreams)
        self.balancer = HAProxyServer(binary, self.state_dir, config).start()

    @property
    def player_url(self) -> str:
        """Where players connect: HAProxy when it runs, else the (first) gateway."""
        if self.balancer is not None:
            return self.balancer.url
        gateways = [r for r in self.replicas if r.spec.name == BALANCED_SERVICE]
        if not gateways:
            raise StackError("the stack has no gateway to send players to")
        return gateways[0].url

    def _seed(self) -> None:
        names = set(self.spec.names)
        if self.spec.players == 0 or not {"wallet", "auth"} <= names or self.postgres is None:
            return
        report = seed_population(self.postgres.dsn, self.spec.players)
        self.seeded_players = report.players

    # -- state -------------------------------------------------------------------------

    def save(self, status: str) -> StackState:
        backing: list[BackingInfo] = []
        if self.postgres is not None and self.postgres.process is not None:
            backing.append(
                BackingInfo(
                    **_info(self.postgres.process).model_dump(),
                    kind="postgres",
                    host=LOOPBACK,
                    port=self.postgres.port,
                    address=self.postgres.dsn,
                )
            )
        if self.redis is not None and self.redis.process is not None:
            backing.append(
                BackingInfo(
                    **_info(self.redis.process).model_dump(),
                    kind="redis",
                    host=LOOPBACK,
                    port=self.redis.port,
                    address=self.redis.url,
                )
            )
        proxy = self.toxiproxy
        balancer = self.balancer
        balancer_info = None
        if balancer is not None and balancer.process is not None:
            balancer_info = BalancerInfo(
                **_info(balancer.process).model_dump(),
                backend=balancer.config.backend,
                url=balancer.url,
                stats_url=balancer.stats_url,
                config=str(balancer.config_file),
            )
        self.state = StackState.model_validate(
            {
                "status": status,
                "state_dir": str(self.state_dir),
                "profile": self.spec.profile.value,
                "players": self.seeded_players,
                "supervisor": {
                    "name": "supervisor",
                    "pid": os.getpid(),
                    "create_time": _own_create_time(),
                    "log": str(self.state_dir / "supervisor.log"),
                },
                "toxiproxy_api": proxy.api_url if proxy else None,
                "toxiproxy": _info(proxy.process).model_dump() if proxy else None,
                "balancer": balancer_info.model_dump() if balancer_info else None,
                "backing": [b.model_dump() for b in backing],
                "services": [r.info().model_dump() for r in self.replicas],
                "links": [link.model_dump() for link in self.links.links] if self.links else [],
            }
        )
        state_file.save(self.state, self.state_dir)
        return self.state

    # -- run and stop ------------------------------------------------------------------

    def processes(self) -> dict[str, ManagedProcess]:
        """Every process of the stack by its name in stack.json."""
        named = {r.process.name: r.process for r in self.replicas}
        for backing in (self.postgres, self.redis):
            if backing is not None and backing.process is not None:
                named[backing.process.name] = backing.process
        if self.toxiproxy is not None:
            named[self.toxiproxy.process.name] = self.toxiproxy.process
        if self.balancer is not None and self.balancer.process is not None:
            named[self.balancer.process.name] = self.balancer.process
        return named

    def watch(self) -> list[ProcessEvent]:
        """What happened to the processes since the last call: each exit once (with its
        code), each start again (a new PID under a name); logged as operator lines."""
        events: list[ProcessEvent] = []
        for name, process in self.processes().items():
            before = self._seen.get(name)
            if before is not None and before is not process:
                events += self._exit_of(before)
                events.append(ProcessEvent("restarted", name, process.pid, None, before.pid))
            self._seen[name] = process
            events += self._exit_of(process)
        for happened in events:
            self._log(happened)
        return events

    def _exit_of(self, process: ManagedProcess) -> list[ProcessEvent]:
        code = process.poll()
        if code is None or process.pid in self._reported:
            return []
        self._reported.add(process.pid)
        return [ProcessEvent("exited", process.name, process.pid, code)]

    def _log(self, happened: ProcessEvent) -> None:
        if self.oplog is None:
            return
        if happened.kind == "exited":
            self.oplog.event(
                "process_exited",
                "error",
                happened.name,
                process=happened.name,
                pid=happened.pid,
                exit_code=happened.exit_code,
                how=exit_text(happened.exit_code),
            )
        else:
            self.oplog.event(
                "process_restarted",
                "warning",
                happened.name,
                process=happened.name,
                pid=happened.pid,
                previous_pid=happened.previous_pid,
            )

    def exited(self) -> list[ManagedProcess]:
        """Services or backing processes that have died since they were (re)started."""
        processes = [r.process for r in self.replicas]
        processes += [p.process for p in (self.postgres, self.redis) if p and p.process]
        if self.toxiproxy is not None:
            processes.append(self.toxiproxy.process)
        if self.balancer is not None and self.balancer.process is not None:
            processes.append(self.balancer.process)
        return [p for p in processes if p.poll() is not None]

    def stop(self) -> None:
        """Stop HAProxy and the services first, then Toxiproxy, then Redis and PostgreSQL.
        Safe to call twice. Everything is stopped even when ``stack.json`` cannot be
        written (a full disk); that OSError is raised afterwards."""
        unsaved: OSError | None = None
        if self.state is not None:
            try:
                self.save("stopping")
            except OSError as error:
                unsaved = error
        if self.balancer is not None:
            self.balancer.stop()
        stop_together([replica.process for replica in self.replicas])
        if self.toxiproxy is not None:
            self.toxiproxy.stop()
        for backing in (self.redis, self.postgres):
            if backing is not None:
                backing.stop()
        if self._keys_file is not None:  # spent: the next start draws new keys
            self._keys_file.unlink(missing_ok=True)
            self._keys_file = None
        self._close_log()
        if self.state is not None and self.state_dir.exists():
            try:
                self.save("stopped")
            except OSError as error:
                unsaved = unsaved or error
        if unsaved is not None:
            raise unsaved

    def _close_log(self) -> None:
        if self.oplog is not None:
            self.oplog.flush(final=True)
            self.oplog = None
        if self._log_stream is not None:
            self._log_stream.close()
            self._log_stream = None


def _keys_for(spec: StackSpec) -> StackKeys:
    names = set(spec.names)
    # the callers of the services here, running or not (a test may play the gateway)
    callers = {c for n in names for c in callers_of(n)} | {caller_of(n) for n in names}
    callers &= all_callers()
    # every studio of the catalogue has a secret, run here or not (a test may play one)
    studios = {n.removeprefix(STUDIO_PREFIX) for n in names if n.startswith(STUDIO_PREFIX)}
    return StackKeys.generate(callers, studios | set(STUDIOS))


def _own_create_time() -> float:
    import psutil

    return float(psutil.Process(os.getpid()).create_time())


def wait_forever(stack: Stack, poll_s: float = 0.1) -> None:
    """Block until interrupted: answer control requests (restarts asked by chaos faults)
    and say once what happened to every process (exited with its code, started again),
    on stderr and in ``logs/supervisor.log``."""
    control = StackControl(stack)
    while True:
        control.handle_pending()
        for happened in stack.watch():
            print(f"spikekit: {happened.detail}", file=sys.stderr, flush=True)
        time.sleep(poll_s)
