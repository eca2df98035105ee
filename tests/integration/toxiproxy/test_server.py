"""ToxiproxyServer: start on a free port, stop by PID, die with its parent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from spikekit.errors import ServiceStartError
from spikekit.toxiproxy.client import ToxiproxyClient
from spikekit.toxiproxy.server import ToxiproxyServer

pytestmark = pytest.mark.toxiproxy


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_start_answers_then_stop_ends_the_process(toxiproxy_binary: Path, tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "toxiproxy.log"
    server = ToxiproxyServer(toxiproxy_binary, log_file=log_file)
    with server:
        pid = server.pid
        assert pid is not None and server.running
        assert server.url.startswith("http://127.0.0.1:")
        with ToxiproxyClient(server.url, timeout=2) as client:
            assert client.version()
    assert not server.running and server.pid is None
    assert _gone(pid)
    assert "Starting Toxiproxy" in log_file.read_text()
    server.stop()  # a second stop is harmless


def test_taken_port_is_a_start_error_naming_the_log(toxiproxy_binary: Path, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        server = ToxiproxyServer(
            toxiproxy_binary, log_file=tmp_path / "tp.log", port=port, start_timeout=5
        )
        with pytest.raises(ServiceStartError, match="address already in use") as err:
            server.start()
    assert err.value.log_file == str(tmp_path / "tp.log")
    assert not server.running


_CHILD = """
import sys, time
from pathlib import Path
from spikekit.toxiproxy.server import ToxiproxyServer
server = ToxiproxyServer(Path(sys.argv[1]), log_file=Path(sys.argv[2])).start()
print(server.pid, flush=True)
time.sleep(60)
"""


def test_server_dies_when_its_parent_is_sigkilled(toxiproxy_binary: Path, tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(toxiproxy_binary), str(tmp_path / "tp.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    server_pid: int | None = None
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        assert not _gone(server_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        deadline = time.monotonic() + 5
        while not _gone(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(server_pid), "toxiproxy-server outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(5)
        if parent.stdout is not None:
            parent.stdout.close()
        if server_pid is not None and not _gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)  # the one we started, via our child
