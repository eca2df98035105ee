"""Free TCP ports on 127.0.0.1."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"
_handed_out: set[int] = set()


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now, never the same twice in this process."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise OSError("no free port found on 127.0.0.1")


def is_listening(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
