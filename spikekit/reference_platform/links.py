"""Links between services and their dependencies, through Toxiproxy when it is present.

Each link (service → PostgreSQL, service → Redis, service → another service's
replica) becomes one Toxiproxy proxy named ``<service>-<dependency>``, so a
fault can be put on exactly that link. Without Toxiproxy the services connect
directly and network faults are unavailable.
"""

from __future__ import annotations

from pathlib import Path

from spikekit.errors import StackError
from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import ManagedProcess
from spikekit.reference_platform.postgres import DATABASE, SUPERUSER
from spikekit.reference_platform.spec import Backing, ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.state import LinkInfo
from spikekit.toxiproxy.client import ProxySpec, ToxiproxyClient
from spikekit.toxiproxy.server import INSTALL_HINT, ToxiproxyServer, find_toxiproxy_server


class Toxiproxy:
    """The real toxiproxy-server as our child, and a client for its API."""

    def __init__(self, server: ToxiproxyServer) -> None:
        assert server.process is not None, "start the server first"
        self.server = server
        self.process: ManagedProcess = server.process
        self.client = ToxiproxyClient(server.url)

    @property
    def api_url(self) -> str:
        return self.server.url

    @classmethod
    def start_if_wanted(cls, mode: ToxiproxyMode, state_dir: Path) -> Toxiproxy | None:
        """Start it unless ``mode`` is off; missing binary: None, or an error when required."""
        if mode is ToxiproxyMode.OFF:
            return None
        binary = find_toxiproxy_server()
        if binary is None:
            if mode is ToxiproxyMode.ON:
                raise StackError(INSTALL_HINT)
            return None
        server = ToxiproxyServer(binary, log_file=state_dir / "logs" / "toxiproxy.log")
        return cls(server.start())

    def stop(self) -> None:
        self.client.close()
        self.server.stop()


def _url(dependency: str, port: int) -> str:
    if dependency == Backing.POSTGRES:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{port}/{DATABASE}"
    if dependency == Backing.REDIS:
        return f"redis://{LOOPBACK}:{port}/0"
    return f"http://{LOOPBACK}:{port}"


def _env_key(dependency: str) -> str:
    if dependency == Backing.POSTGRES:
        return "SPIKEKIT_DATABASE_URL"
    if dependency == Backing.REDIS:
        return "SPIKEKIT_REDIS_URL"
    return f"SPIKEKIT_{dependency.upper().replace('-', '_')}_URLS"


class LinkPlan:
    """Where each service must connect to reach each dependency."""

    def __init__(
        self, spec: StackSpec, toxiproxy: Toxiproxy | None, *, proxied: bool | None = None
    ) -> None:
        """``proxied``: route through Toxiproxy links (default: when ``toxiproxy`` runs);
        True without a server plans the links for one started elsewhere (a container)."""
        self.spec = spec
        self.toxiproxy = toxiproxy
        self.proxied = toxiproxy is not None if proxied is None else proxied
        self.links: list[LinkInfo] = []
        self._urls: dict[tuple[str, str], list[str]] = {}

    def _connect(self, service: str, dependency: str, upstream_port: int, link_name: str) -> None:
        port = upstream_port
        if self.proxied:
            port = free_port()
            link = LinkInfo(
                name=link_name,
                service=service,
                dependency=dependency,
                listen=f"{LOOPBACK}:{port}",
                upstream=f"{LOOPBACK}:{upstream_port}",
            )
            self.links.append(link)
        self._urls.setdefault((service, dependency), []).append(_url(dependency, port))

    def _create_proxies(self, links: list[LinkInfo]) -> None:
        if self.toxiproxy is None or not links:
            return
        specs = [ProxySpec(name=k.name, listen=k.listen, upstream=k.upstream) for k in links]
        self.toxiproxy.client.populate(specs)

    def route_backing(self, ports: dict[Backing, int]) -> None:
        before = len(self.links)
        for service in self.spec.services:
            for need in service.backing_needs:
                self._connect(service.name, need.value, ports[need], f"{service.name}-{need}")
        self._create_proxies(self.links[before:])

    def route_services(self, ports: dict[tuple[str, int], int]) -> None:
        """Links to other services, once every replica's port is known."""
        before = len(self.links)
        for service in self.spec.services:
            for dep_name in service.service_needs:
                dep = self.spec.service(dep_name)
                for index in range(dep.replicas):
                    suffix = "" if dep.replicas == 1 else f"-{index + 1}"
                    link = f"{service.name}-{dep_name}{suffix}"
                    self._connect(service.name, dep_name, ports[(dep_name, index)], link)
        self._create_proxies(self.links[before:])

    def env_for(self, service: ServiceSpec) -> dict[str, str]:
        env: dict[str, str] = {}
        for (name, dependency), urls in self._urls.items():
            if name == service.name:
                env[_env_key(dependency)] = ",".join(urls)
        return env


def plan_links(spec: StackSpec, ports: dict[Backing, int], toxiproxy: Toxiproxy | None) -> LinkPlan:
    plan = LinkPlan(spec, toxiproxy)
    plan.route_backing(ports)
    return plan
