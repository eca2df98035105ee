"""HAProxy in front of a replicated service: its configuration, and the server as our child.

The players' door: when the gateway runs as more than one replica, the supervisor
starts the real ``haproxy`` (Debian package, ``make haproxy``) in the foreground
(``-db``), bound to 127.0.0.1, with its configuration written into the stack's state
folder. Every replica is health-checked (``GET /health`` each second; two failures take
it out of rotation, two successes bring it back), a request whose connection is refused
is retried on another replica (``retries`` + ``option redispatch``), and a second
frontend serves the Prometheus exporter on ``/metrics`` (the statistics the platform
recorder scrapes) next to HAProxy's own stats page (``/stats``).

The same replicas are listed again as ``backup`` servers without health checks: when
every replica fails its check at once (a shared dependency such as Redis is down, so
every gateway answers 503 on ``/health``), HAProxy sends the players to them anyway,
as it would without a balancer, instead of answering 503 itself. One dead replica
among live ones is never reached that way.

:func:`read_servers` reads the stats page's CSV (``/stats;csv``): each server's status
(``UP``, ``DOWN``, ``no check`` for a backup ...) and last health check, for
``spikekit platform status``. :meth:`HAProxyServer.restart` starts it again with the same
configuration and ports (the control channel's ``start haproxy``).
"""

from __future__ import annotations

import csv
import io
import shutil
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from spikekit.errors import ServiceStartError
from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import ManagedProcess, spawn, wait_until

INSTALL_HINT = (
    "haproxy not found: replicas of the gateway need it in front of them "
    "(run 'make haproxy', or 'apt-get install haproxy')"
)
CONFIG_FILE = "haproxy.cfg"


def find_haproxy() -> Path | None:
    found = shutil.which("haproxy")
    return Path(found) if found else None


@dataclass(frozen=True)
class Upstream:
    """One replica behind the balancer."""

    name: str  # e.g. gateway-2, the process name in stack.json
    port: int


@dataclass(frozen=True)
class BalancerConfig:
    """Everything ``haproxy.cfg`` says, as data (rendered by :meth:`render`)."""

    backend: str
    upstreams: tuple[Upstream, ...]
    port: int  # the frontend players connect to
    stats_port: int  # /metrics (Prometheus), /stats, /health
    health_path: str = "/health"
    check_inter_ms: int = 1000
    fall: int = 2
    rise: int = 2
    maxconn: int = 8000  # two descriptors per proxied connection, 20,000 per process here
    connect_timeout_ms: int = 2000
    timeout_s: int = 60
    queue_timeout_ms: int = 5000
    retries: int = 2
    host: str = LOOPBACK

    def render(self) -> str:
        check = f"check inter {self.check_inter_ms}ms fall {self.fall} rise {self.rise}"
        servers = [f"    server {u.name} {self.host}:{u.port} {check}" for u in self.upstreams]
        backups = [
            f"    server {u.name}-failopen {self.host}:{u.port} backup" for u in self.upstreams
        ]
        lines = [
            "# written by the spikekit stack supervisor; rewritten at every start",
            "global",
            "    log stderr format raw local0 notice",
            f"    maxconn {self.maxconn}",
            "    nbthread 1",
            "",
            "defaults",
            "    mode http",
            "    log global",
            "    option dontlognull",
            "    option http-keep-alive",
            "    option redispatch 1",
            f"    retries {self.retries}",
            f"    timeout connect {self.connect_timeout_ms}ms",
            f"    timeout client {self.timeout_s}s",
            f"    timeout server {self.timeout_s}s",
            f"    timeout queue {self.queue_timeout_ms}ms",
            "    timeout http-keep-alive 4s",
            "",
            "frontend players",
            f"    bind {self.host}:{self.port}",
            f"    default_backend {self.backend}",
            "",
            "frontend stats",
            f"    bind {self.host}:{self.stats_port}",
            "    http-request set-uri /metrics?scope=backend&scope=server if { path /metrics }",
            "    http-request use-service prometheus-exporter if { path /metrics }",
            "    http-request return status 200 content-type text/plain string ok"
            " if { path /health }",
            "    stats enable",
            "    stats uri /stats",
            "    stats refresh 1s",
            "",
            f"backend {self.backend}",
            "    balance roundrobin",
            "    option allbackups",
            f"    option httpchk GET {self.health_path}",
            "    http-check expect status 200",
            *servers,
            *backups,
            "",
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class ServerState:
    """One row of HAProxy's statistics: a backend (``server`` is ``BACKEND``) or a server."""

    backend: str
    server: str
    status: str  # UP, DOWN, "UP 1/2" (going down), MAINT, "no check" (a backup) ...
    check: str  # the last health check: L7OK, L4CON (refused), L7STS (a non-200) ...
    sessions: int
    queue: int
    backup: bool

    @property
    def up(self) -> bool:
        return self.status.startswith("UP") or self.status == "no check"


def parse_servers(text: str) -> list[ServerState]:
    """The backend and server rows of ``/stats;csv`` (frontends left out)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("# ")))
    rows: list[ServerState] = []
    for row in reader:
        if row.get("svname") in (None, "FRONTEND") or row.get("pxname") == "stats":
            continue
        rows.append(
            ServerState(
                backend=row["pxname"],
                server=row["svname"],
                status=row.get("status", ""),
                check=row.get("check_status", "") or "",
                sessions=int(row.get("scur") or 0),
                queue=int(row.get("qcur") or 0),
                backup=row.get("bck") == "1",
            )
        )
    return rows


def read_servers(stats_url: str, timeout: float = 2.0) -> list[ServerState] | None:
    """Every backend and server as HAProxy sees them now; None when it does not answer."""
    try:
        response = httpx.get(f"{stats_url}/stats;csv", timeout=timeout)
    except httpx.HTTPError:
        return None
    return parse_servers(response.text) if response.status_code == 200 else None


def balancer_config(backend: str, upstreams: Sequence[Upstream]) -> BalancerConfig:
    """A configuration on two free ports of 127.0.0.1."""
    return BalancerConfig(
        backend=backend, upstreams=tuple(upstreams), port=free_port(), stats_port=free_port()
    )


class HAProxyServer:
    """The real ``haproxy`` in the foreground, as a child of the supervisor."""

    def __init__(self, binary: Path, folder: Path, config: BalancerConfig) -> None:
        self.binary = binary
        self.folder = folder
        self.config = config
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    @property
    def stats_url(self) -> str:
        return f"http://{self.config.host}:{self.config.stats_port}"

    @property
    def config_file(self) -> Path:
        return self.folder / CONFIG_FILE

    def start(self, timeout: float = 15.0) -> HAProxyServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.config.render())
        self.process = spawn(
            "haproxy",
            [str(self.binary), "-db", "-f", str(self.config_file)],
            self.folder / "logs" / "haproxy.log",
            stop_signal=signal.SIGTERM,  # hard stop: connections closed now
            death_signal=signal.SIGKILL,
        )
        process = self.process
        if not wait_until(
            self.ready, timeout=timeout, interval=0.05, alive=lambda: process.poll() is None
        ):
            tail = process.log_tail()
            self.stop()
            raise ServiceStartError("haproxy", f"not ready in {timeout:.0f} s\n{tail}")
        return self

    def restart(self, timeout: float = 15.0) -> HAProxyServer:
        """Start it again after it died, with the same configuration and ports."""
        if self.process is not None and self.process.poll() is None:
            return self
        return self.start(timeout)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.stats_url}/health", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            self.process.stop(timeout)
