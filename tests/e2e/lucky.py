"""The example API of examples/own-platform (Lucky Ledger) behind a real Toxiproxy, for
the e2e tests of a platform of the user's own.

:func:`lucky_api` starts the server (a real Starlette app under uvicorn, on 127.0.0.1)
and a Toxiproxy with the proxy ``lucky-api`` in front of it, and stops both by PID;
:func:`lucky_scenario` writes an example scenario aimed at them.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from spikekit.ports import free_port
from spikekit.toxiproxy.client import ToxiproxyClient
from spikekit.toxiproxy.server import ToxiproxyServer, find_toxiproxy_server
from tests.conftest import require_toxiproxy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "own-platform"


@dataclass(frozen=True)
class Lucky:
    url: str  # Toxiproxy's listener in front of the server
    server_url: str  # the server itself (its /metrics, unslowed)
    toxiproxy: str  # Toxiproxy's API
    ledger: Path
    folder: Path


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until ``url/health`` answers 200; fails when the process exits or after 20 s."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the example server exited"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the example server never answered /health")


@contextmanager
def lucky_api(folder: Path) -> Iterator[Lucky]:
    """The example server (its ledger file in ``folder``) behind Toxiproxy, until the block ends."""
    require_toxiproxy()
    binary = find_toxiproxy_server()
    assert binary is not None
    port = free_port()
    ledger = folder / "lucky-ledger.csv"
    log = (folder / "server.log").open("wb")
    argv = [sys.executable, str(EXAMPLE / "server.py"), "--port", str(port)]
    server = subprocess.Popen(
        [*argv, "--ledger-file", str(ledger)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        server_url = f"http://127.0.0.1:{port}"
        wait_healthy(server_url, server)
        with ToxiproxyServer(binary, log_file=folder / "toxiproxy.log") as toxiproxy:
            with ToxiproxyClient(toxiproxy.url) as client:
                proxy = client.create_proxy(
                    "lucky-api", listen="127.0.0.1:0", upstream=f"127.0.0.1:{port}"
                )
            yield Lucky(f"http://{proxy.listen}", server_url, toxiproxy.url, ledger, folder)
    finally:
        server.terminate()  # by its PID: the process this helper started
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        log.close()


def lucky_scenario(
    lucky: Lucky, example: str, change: Callable[[dict[str, Any]], None] | None = None
) -> Path:
    """The example scenario against this test's server, ledger and (absolute) locustfile,
    with ``change`` applied to its data."""
    data = yaml.safe_load((EXAMPLE / example).read_text())
    if change is not None:
        change(data)
    data["target"]["url"] = lucky.url
    data["target"]["ledger"]["file"] = str(lucky.ledger)
    if "locustfile" in data.get("players", {}):
        data["players"]["locustfile"] = str(EXAMPLE / data["players"]["locustfile"])
    path = lucky.folder / example
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
