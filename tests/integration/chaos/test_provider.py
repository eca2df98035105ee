"""The provider fault client against a tiny real simulator speaking the control API.

The simulator here implements ``docs/provider-control-api.md`` and nothing more: a game
endpoint that answers 503 while an ``errors`` fault at rate 1 is set on its provider.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault
from spikekit.scenarios.faults import ProviderErrors


class _Simulator(ThreadingHTTPServer):
    daemon_threads = True
    faults: dict[tuple[str, str], dict[str, Any]]
    rounds: ClassVar[dict[str, int]] = {"alpha": 3, "beta": 40}


class _Handler(BaseHTTPRequestHandler):
    server: _Simulator

    def log_message(self, *_: object) -> None:
        pass

    def _reply(self, status: int, body: object = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if self.path == "/control/providers":
            providers = [{"id": p, "rounds": n} for p, n in self.server.rounds.items()]
            self._reply(200, {"providers": providers})
        elif parts[0] == "play":  # /play/<provider>
            broken = any(
                f["type"] == "errors" and p == parts[1] for (p, _), f in self.server.faults.items()
            )
            self._reply(503 if broken else 200, {"ok": not broken})
        else:
            self._reply(404)

    def do_PUT(self) -> None:
        _, _, provider, _, fault_id = self.path.strip("/").split("/")
        length = int(self.headers["Content-Length"])
        self.server.faults[(provider, fault_id)] = json.loads(self.rfile.read(length))
        self._reply(200, {"fault_id": fault_id, "active": True})

    def do_DELETE(self) -> None:
        parts = self.path.strip("/").split("/")
        existed = self.server.faults.pop((parts[2], parts[4]), None) if len(parts) == 5 else None
        self._reply(204 if existed else 404)


@pytest.fixture
def simulator() -> Iterator[_Simulator]:
    server = _Simulator(("127.0.0.1", 0), _Handler)
    server.faults = {}
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_errors_fault_makes_the_busiest_provider_answer_503_then_not(
    simulator: _Simulator,
) -> None:
    url = f"http://127.0.0.1:{simulator.server_address[1]}"
    ctx = ChaosContext(provider_urls=(url,))
    spec = ProviderErrors(type="provider.errors", at=0, status_codes=[503])
    with build_fault(spec, ctx, fault_id="meltdown", duration_s=30):
        assert httpx.get(f"{url}/play/beta").status_code == 503
        assert httpx.get(f"{url}/play/alpha").status_code == 200
        assert simulator.faults[("beta", "meltdown")] == {
            "type": "errors",
            "rate": 1.0,
            "status_codes": [503],
            "expires_in_s": 30,
        }
    assert httpx.get(f"{url}/play/beta").status_code == 200
    assert simulator.faults == {}
