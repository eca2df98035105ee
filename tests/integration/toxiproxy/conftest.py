"""Fixtures for the Toxiproxy tests: the real server, a client, a real TCP upstream.

Without ``toxiproxy-server`` the tests skip with how to get it, unless
``SPIKEKIT_REQUIRE_TOXIPROXY=1`` (CI), which makes a missing server a failure.
"""

from __future__ import annotations

import os
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from spikekit.toxiproxy.client import ToxiproxyClient
from spikekit.toxiproxy.server import INSTALL_HINT, ToxiproxyServer, find_toxiproxy_server


@pytest.fixture(scope="session")
def toxiproxy_binary() -> Path:
    """Path of the real toxiproxy-server; skip (or fail under CI) when missing."""
    binary = find_toxiproxy_server()
    if binary is None:
        if os.environ.get("SPIKEKIT_REQUIRE_TOXIPROXY") == "1":
            pytest.fail(f"SPIKEKIT_REQUIRE_TOXIPROXY=1 but {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return binary


@pytest.fixture(scope="module")
def toxiproxy_server(
    toxiproxy_binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ToxiproxyServer]:
    """A real toxiproxy-server on a free 127.0.0.1 port, stopped after the module."""
    log_file = tmp_path_factory.mktemp("toxiproxy") / "toxiproxy.log"
    with ToxiproxyServer(toxiproxy_binary, log_file=log_file) as server:
        yield server


@pytest.fixture
def toxiproxy(toxiproxy_server: ToxiproxyServer) -> Iterator[ToxiproxyClient]:
    """A client on the module's server; every proxy is deleted after the test."""
    with ToxiproxyClient(toxiproxy_server.url, timeout=3.0) as client:
        yield client
        for name in client.list_proxies():
            client.delete_proxy(name, missing_ok=True)


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo_upstream() -> Iterator[str]:
    """A real threaded TCP echo server on 127.0.0.1; yields its ``host:port``."""
    server = _EchoServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
