"""The reference platform in containers: the configuration its compose file runs with.

``deploy/compose/compose.yaml`` names one container per process of the stack (PostgreSQL,
Redis, Toxiproxy, every service replica, HAProxy, a one-shot seed), all on the host's
network and listening on 127.0.0.1. What each container is told comes from here, built
by the same code the supervisor runs (:class:`~.links.LinkPlan` for the links,
:meth:`~.supervisor.Stack.platform_env` for each replica's environment and keys, the
HAProxy configuration of :mod:`.haproxy`), so the two cannot drift apart. Into a folder:

==================== ==========================================================
``compose.env``      the compose file's variables (image, this folder)
``env/NAME.env``     one container's environment: ports, links, keys (0600)
``toxiproxy.json``   one proxy per link (``toxiproxy-server -config``)
``haproxy.cfg``      the players' balancer in front of the gateway replicas
``targets.json``     where the players, Toxiproxy and every ``/metrics`` are
==================== ==========================================================

Ports are free ports of 127.0.0.1 drawn now; keys are drawn anew at every render.

    python -m spikekit.reference_platform.compose OUT_DIR [--players N] [--image NAME]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from spikekit.ports import LOOPBACK, free_port
from spikekit.reference_platform.haproxy import Upstream, balancer_config
from spikekit.reference_platform.links import LinkPlan
from spikekit.reference_platform.postgres import DATABASE, SUPERUSER
from spikekit.reference_platform.spec import (
    BALANCED_SERVICE,
    Backing,
    StackSpec,
    ToxiproxyMode,
    default_stack,
)
from spikekit.reference_platform.supervisor import Stack

DEFAULT_IMAGE = "localhost/spikekit:dev"
DEFAULT_PLAYERS = 2_000
TARGETS_FILE = "targets.json"


def compose_stack() -> StackSpec:
    """The stack the shipped compose file runs: resilient, Toxiproxy on every link, two
    gateways behind HAProxy."""
    return default_stack().with_options(toxiproxy=ToxiproxyMode.ON).with_replicas(gateway=2)


class ScrapeUrl(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # the container, e.g. gateway-2
    service: str  # its service, e.g. gateway
    url: str  # where /metrics is served


class Targets(BaseModel):
    """Where a run against the containers sends players, faults and its scrapes."""

    model_config = ConfigDict(frozen=True)

    players_url: str
    toxiproxy_url: str | None
    database_url: str
    redis_url: str
    containers: list[str]
    scrape: list[ScrapeUrl]

    def scrape_options(self) -> list[str]:
        """``--scrape SERVICE=URL`` values for ``spikekit run --target``."""
        return [f"{s.service}={s.url}" for s in self.scrape]


@dataclass
class Rendered:
    """What :func:`render` decided, before it is written."""

    env: dict[str, dict[str, str]] = field(default_factory=dict)  # container -> environment
    toxiproxy: list[dict[str, object]] = field(default_factory=list)
    haproxy: str | None = None
    targets: Targets | None = None


def _urls(postgres_port: int, redis_port: int) -> tuple[str, str]:
    return (
        f"postgresql://{SUPERUSER}@{LOOPBACK}:{postgres_port}/{DATABASE}",
        f"redis://{LOOPBACK}:{redis_port}/0",
    )


def plan(spec: StackSpec, players: int) -> Rendered:
    """Every container's environment and the proxies' and balancer's configuration."""
    out = Rendered()
    postgres_port, redis_port = free_port(), free_port()
    database_url, redis_url = _urls(postgres_port, redis_port)
    stack = Stack(spec, Path("/nonexistent"))  # only its keys and its environment rules
    proxied = spec.toxiproxy is not ToxiproxyMode.OFF
    links = LinkPlan(spec, None, proxied=proxied)
    links.route_backing({Backing.POSTGRES: postgres_port, Backing.REDIS: redis_port})
    ports = {(s.name, i): free_port() for s in spec.services for i in range(s.replicas)}
    links.route_services(ports)
    stack.links = links

    out.env["postgres"] = {"SPIKEKIT_POSTGRES_PORT": str(postgres_port)}
    out.env["redis"] = {"SPIKEKIT_REDIS_PORT": str(redis_port)}
    toxiproxy_url = None
    if proxied:
        toxiproxy_port = free_port()
        toxiproxy_url = f"http://{LOOPBACK}:{toxiproxy_port}"
        out.env["toxiproxy"] = {
            "SPIKEKIT_TOXIPROXY_PORT": str(toxiproxy_port),
            "SPIKEKIT_HEALTH_URL": f"{toxiproxy_url}/version",
        }
        out.toxiproxy = [
            {"name": k.name, "listen": k.listen, "upstream": k.upstream, "enabled": True}
            for k in links.links
        ]
    scrape: list[ScrapeUrl] = []
    upstreams: list[Upstream] = []
    for service in spec.services:
        for index in range(service.replicas):
            name = service.name if service.replicas == 1 else f"{service.name}-{index + 1}"
            port = ports[(service.name, index)]
            url = f"http://{LOOPBACK}:{port}"
            env = stack.platform_env(service, index, port)
            out.env[name] = {**env, "SPIKEKIT_HEALTH_URL": f"{url}/health"}
            scrape.append(ScrapeUrl(name=name, service=service.name, url=url))
            if service.name == BALANCED_SERVICE:
                upstreams.append(Upstream(name, port))
    players_url = f"http://{LOOPBACK}:{upstreams[0].port}" if upstreams else ""
    if spec.balanced:
        config = balancer_config(BALANCED_SERVICE, upstreams)
        out.haproxy = config.render()
        stats = f"http://{config.host}:{config.stats_port}"
        out.env["haproxy"] = {"SPIKEKIT_HEALTH_URL": f"{stats}/health"}
        scrape.append(ScrapeUrl(name="haproxy", service="haproxy", url=stats))
        players_url = f"http://{config.host}:{config.port}"
    out.env["seed"] = {"SPIKEKIT_DATABASE_URL": database_url, "SPIKEKIT_PLAYERS": str(players)}
    out.targets = Targets(
        players_url=players_url,
        toxiproxy_url=toxiproxy_url,
        database_url=database_url,
        redis_url=redis_url,
        containers=[n for n in out.env if n != "seed"],
        scrape=scrape,
    )
    return out


def _env_line(key: str, value: str) -> str:
    if "'" in value or "\n" in value:
        raise ValueError(f"{key}: a value with a quote or a newline cannot be written")
    return f"{key}='{value}'"  # single quotes: literal in compose and dotenv files


def write(rendered: Rendered, folder: Path, image: str) -> Targets:
    """Write the folder (see the module's docstring); returns where everything is."""
    assert rendered.targets is not None
    folder = folder.resolve()
    env_dir = folder / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    for name, env in rendered.env.items():
        path = env_dir / f"{name}.env"
        path.touch(mode=0o600)
        path.chmod(0o600)  # the service keys
        path.write_text("".join(_env_line(k, v) + "\n" for k, v in sorted(env.items())))
    (folder / "toxiproxy.json").write_text(json.dumps(rendered.toxiproxy, indent=2) + "\n")
    (folder / "haproxy.cfg").write_text(rendered.haproxy or "")
    compose_env = {"SPIKEKIT_IMAGE": image, "SPIKEKIT_CONFIG": str(folder)}
    (folder / "compose.env").write_text(
        "".join(_env_line(k, v) + "\n" for k, v in compose_env.items())
    )
    (folder / TARGETS_FILE).write_text(rendered.targets.model_dump_json(indent=2) + "\n")
    return rendered.targets


def render(
    folder: Path,
    *,
    spec: StackSpec | None = None,
    players: int = DEFAULT_PLAYERS,
    image: str = DEFAULT_IMAGE,
) -> Targets:
    """Plan and write the configuration of ``spec`` (default: :func:`compose_stack`)."""
    return write(plan(spec or compose_stack(), players), folder, image)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m spikekit.reference_platform.compose",
        description="Write the configuration deploy/compose/compose.yaml runs with.",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--players", type=int, default=DEFAULT_PLAYERS)
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    args = parser.parse_args(argv)
    if args.players < 0:
        parser.error(f"--players {args.players}: expected 0 or more")
    try:
        targets = render(args.folder, players=args.players, image=args.image)
    except OSError as error:
        parser.error(f"{args.folder}: cannot write the configuration there ({error.strerror})")
    print(f"players: {targets.players_url}")
    print(f"toxiproxy: {targets.toxiproxy_url}")
    print(f"wrote {args.folder.resolve()}")


if __name__ == "__main__":
    main()
