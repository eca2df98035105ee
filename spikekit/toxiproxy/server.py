"""Find and run the real ``toxiproxy-server`` binary as a child process.

:func:`find_toxiproxy_server` looks where ``make install`` builds it, then on
PATH. :class:`ToxiproxyServer` starts it on a free loopback port, waits until
its API answers, and stops it by PID (SIGTERM, then SIGKILL). On Linux the
child gets ``PR_SET_PDEATHSIG`` so it dies with us even if we are SIGKILLed.

    binary = find_toxiproxy_server()
    with ToxiproxyServer(binary, log_file=run_dir / "toxiproxy.log") as server:
        with ToxiproxyClient(server.url) as tp: ...
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from spikekit.errors import ServiceStartError, ToxiproxyError
from spikekit.ports import LOOPBACK, free_port
from spikekit.processes import ManagedProcess, spawn
from spikekit.toxiproxy.client import ToxiproxyClient

__all__ = ["BINARY_NAME", "INSTALL_HINT", "ToxiproxyServer", "find_toxiproxy_server", "free_port"]

BINARY_NAME = "toxiproxy-server"
INSTALL_HINT = (
    "toxiproxy-server not found: run 'make install' with Go installed (it builds v2.12.0 into "
    ".tools/bin/), or put toxiproxy-server on PATH "
    "(https://github.com/Shopify/toxiproxy/releases)"
)
_REPO_ROOT = Path(__file__).resolve().parents[2]  # the source tree, when run from one


def find_toxiproxy_server(roots: Iterable[Path] | None = None) -> Path | None:
    """The ``toxiproxy-server`` to use, or None.

    Looks at ``<root>/.tools/bin/toxiproxy-server`` for each root (default: the
    current directory, then the source tree spikekit runs from), then on PATH.
    """
    for root in (Path.cwd(), _REPO_ROOT) if roots is None else roots:
        candidate = root / ".tools" / "bin" / BINARY_NAME
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(BINARY_NAME)
    return Path(found) if found else None


class ToxiproxyServer:
    """One ``toxiproxy-server`` child process on ``host:port``; a context manager.

    ``port=None`` picks a free port (and retries with another one if it was
    taken in the meantime). Output goes to ``log_file`` (appended).
    """

    def __init__(
        self,
        binary: Path,
        *,
        log_file: Path,
        host: str = LOOPBACK,
        port: int | None = None,
        start_timeout: float = 10.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self.binary = binary
        self.log_file = log_file
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.process: ManagedProcess | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        """Base URL of the API, e.g. ``http://127.0.0.1:40123``."""
        if self.port is None:
            raise RuntimeError("ToxiproxyServer has no port before start()")
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """PID of the running server, or None."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> Self:
        """Start the server and wait until ``GET /version`` answers.

        Raises ServiceStartError (naming the log file) when it exits early or
        does not answer within ``start_timeout``.
        """
        if self.running:
            return self
        pick_port = self.port is None
        reason = ""
        for _ in range(3 if pick_port else 1):  # a picked port may be taken meanwhile
            if pick_port:
                self.port = free_port(self.host)
            self._spawn()
            if self._wait_ready():
                return self
            reason = self._failure_reason()
            port_taken = not self.running or self._logged_error() is not None
            self._terminate()
            if not port_taken:  # hung rather than failed: another port will not help
                break
        self.stop()
        raise ServiceStartError(BINARY_NAME, reason, str(self.log_file))

    def stop(self) -> None:
        """SIGTERM our child, SIGKILL it after ``stop_timeout``; safe to call twice."""
        self._terminate()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.stop(self.stop_timeout)

    def _spawn(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        try:
            self.process = spawn(
                BINARY_NAME,
                [str(self.binary), "-host", self.host, "-port", str(self.port)],
                self.log_file,
                stop_signal=signal.SIGTERM,
                death_signal=signal.SIGTERM,
            )
        except OSError as exc:  # missing or not executable
            self.stop()
            raise ServiceStartError(BINARY_NAME, f"cannot run {self.binary}: {exc}") from exc

    def _wait_ready(self) -> bool:
        """Poll ``/version`` until it answers (True) or the server fails / time runs out."""
        deadline = time.monotonic() + self.start_timeout
        with ToxiproxyClient(self.url, timeout=0.5) as client:
            while time.monotonic() < deadline:
                if not self.running or self._logged_error():
                    return False
                with contextlib.suppress(ToxiproxyError):
                    client.version()
                    return not self._logged_error()  # not some other server on our port
                time.sleep(0.05)
        return False

    def _logged_error(self) -> str | None:
        """The API server's fatal error from this start's log lines, if any.

        toxiproxy-server 2.12 does not exit when its port is taken: it logs
        "Server finished with error" and keeps running, so we read the log.
        """
        with self.log_file.open("rb") as log:
            log.seek(self._log_offset)
            lines = log.read().decode(errors="replace").splitlines()
        for line in lines:
            if "Server finished with error" in line:
                try:
                    entry = json.loads(line)
                except ValueError:
                    return line
                return str(entry.get("error", line)) if isinstance(entry, dict) else line
        return None

    def _failure_reason(self) -> str:
        error = self._logged_error()
        if error:
            return error
        if self.process is not None and self.process.poll() is not None:
            code = self.process.poll()
            return f"exited with code {code} on {self.host}:{self.port}"
        return f"API at {self.url} did not answer within {self.start_timeout:g} s"
