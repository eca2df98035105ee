"""Small network helpers for the Toxiproxy tests."""

from __future__ import annotations

import socket
import time


def round_trip(host: str, port: int, payload: bytes = b"ping\n", timeout: float = 5.0) -> float:
    """Seconds to connect, send ``payload`` and read its echo back."""
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"connection closed after {received!r}")
            received += chunk
    assert received == payload
    return time.perf_counter() - start
