"""The container engine on this machine: the checks ``spikekit doctor`` adds for it.

The reference platform's image and compose file (docs/containers.md) need podman or
docker; podman as root here needs the settings that ``CONTAINERS_CONF`` points to
(``deploy/podman/containers.conf``); the docker faults talk to the Docker-compatible API at
``DOCKER_HOST`` (or the default socket), which ``podman system service`` serves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from spikekit.machine import Check, Status

__all__ = ["DEFAULT_DOCKER_HOST", "engine_checks"]

ENGINES = ("podman", "docker")
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
CONF_FIX = "export CONTAINERS_CONF=$PWD/deploy/podman/containers.conf (the Makefile's targets do)"
API_FIX = (
    "podman system service --time=0 unix:///tmp/podman.sock & "
    "export DOCKER_HOST=unix:///tmp/podman.sock"
)
TIMEOUT_S = 30.0


def _run(argv: list[str]) -> tuple[bool, str]:
    """Whether ``argv`` exits 0, and its first output line (the last error line if not)."""
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, str(error)
    if result.returncode == 0 and result.stdout.strip():
        return True, result.stdout.strip().splitlines()[0]
    lines = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()
    return False, lines[-1][:160]


def _engine() -> Check:
    found = [(name, path) for name in ENGINES if (path := shutil.which(name))]
    if not found:
        return Check(
            name="container engine",
            status=Status.WARN,
            value="neither podman nor docker found",
            required=False,
            cost="the reference platform cannot run in containers (make image, compose)",
            fix="make podman (podman and runc from Debian's packages)",
        )
    versions = []
    working = False
    for name, path in found:
        ok, line = _run([name, "--version"])
        working = working or ok
        versions.append(f"{line} ({path})" if ok else f"{name} at {path} fails: {line}")
    return Check(
        name="container engine",
        status=Status.OK if working else Status.WARN,
        value="; ".join(versions),
        required=False,
        cost="" if working else "the reference platform cannot run in containers",
        fix="" if working else CONF_FIX,
    )


def _containers_conf() -> Check:
    conf = os.environ.get("CONTAINERS_CONF")
    if conf is not None and not Path(conf).is_file():
        return Check(
            name="containers.conf",
            status=Status.WARN,
            value=f"CONTAINERS_CONF={conf}: no such file",
            required=False,
            cost="podman stops at the missing file: no container can run",
            fix=CONF_FIX,
        )
    named = f"CONTAINERS_CONF={conf}" if conf else "CONTAINERS_CONF not set"
    if shutil.which("podman") is None:
        return Check(
            name="containers.conf",
            status=Status.OK if conf else Status.WARN,
            value=f"{named}; podman not found",
            required=False,
            cost="" if conf else "podman is not there to run the containers",
            fix="" if conf else "make podman",
        )
    ok, line = _run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"])
    return Check(
        name="containers.conf",
        status=Status.OK if ok else Status.WARN,
        value=f"{named}; podman info works (runtime {line})"
        if ok
        else f"{named}; podman info fails: {line}",
        required=False,
        cost="" if ok else "podman cannot run the platform's containers with these settings",
        fix="" if ok else CONF_FIX,
    )


def _docker_api() -> Check:
    host = os.environ.get("DOCKER_HOST")
    url = host or DEFAULT_DOCKER_HOST
    named = f"DOCKER_HOST={url}" if host else f"DOCKER_HOST not set, so {url}"
    cost = "docker faults (pause, stop, kill, restart, disconnect) unavailable"
    if url.startswith("unix://") and not Path(url.removeprefix("unix://")).exists():
        return Check(
            name="docker api",
            status=Status.WARN,
            value=f"{named}: no such socket",
            required=False,
            cost=cost,
            fix=API_FIX,
        )
    import docker  # the SDK the docker faults use; only needed here
    from docker.errors import DockerException

    try:
        client = docker.DockerClient(base_url=url, timeout=10)
        try:
            version = client.version()
        finally:
            client.close()
    except DockerException as error:
        return Check(
            name="docker api",
            status=Status.WARN,
            value=f"{named}: does not answer ({str(error)[:120]})",
            required=False,
            cost=cost,
            fix=API_FIX,
        )
    components = version.get("Components") or [{}]
    engine = str(components[0].get("Name") or "Docker Engine")
    return Check(
        name="docker api",
        status=Status.OK,
        value=f"{named}: {engine} {version.get('Version', '?')} (API {version.get('ApiVersion')})",
        required=False,
    )


def engine_checks() -> list[Check]:
    return [_engine(), _containers_conf(), _docker_api()]
