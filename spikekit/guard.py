"""Safety: faults and load only hit this machine unless the user names another host.

Every address a fault touches (the Toxiproxy API, a proxy's upstream, a database or Redis
URL, a provider's control API, a Docker engine) goes through :meth:`TargetGuard.check_host`.
A host passes when every address it resolves to is loopback (127.0.0.0/8 or ::1), or when
the user named it with ``--allow-target HOST``. Otherwise
:class:`~spikekit.errors.UnsafeTargetError` says what was refused and how to allow it.

The load engine checks its target URL with the same guard (:mod:`spikekit.load.target`),
so it lives here, a leaf shared by load and chaos, and neither imports the other.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from spikekit.errors import UnsafeTargetError

__all__ = ["Resolver", "TargetGuard", "system_resolver"]

#: Host name → the IP addresses it resolves to (raises OSError when it does not).
Resolver = Callable[[str], list[str]]


def system_resolver(host: str) -> list[str]:
    """The addresses ``host`` resolves to on this machine."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class TargetGuard:
    """Refuses hosts off this machine unless allowed by name (case-insensitive)."""

    def __init__(self, allowed: Iterable[str] = (), *, resolver: Resolver = system_resolver):
        self.allowed = frozenset(h.strip().lower().strip("[]") for h in allowed if h.strip())
        self._resolve = resolver
        self._checked: set[str] = set()

    def check_host(self, host: str, what: str) -> None:
        """Pass silently, or raise UnsafeTargetError naming ``what`` and ``host``."""
        name = host.strip().lower().strip("[]")
        if name in self._checked or name in self.allowed:
            return
        if not name:
            raise UnsafeTargetError(what, "no host given")
        addresses = [name] if _is_ip(name) else self._addresses(name, what)
        outside = [a for a in addresses if not _is_loopback(a)]
        if outside:
            raise UnsafeTargetError(
                what,
                f"refusing {host} ({', '.join(outside)}): not on this machine (127.0.0.0/8); "
                f"name it with --allow-target {host} if you mean it",
            )
        self._checked.add(name)

    def check_url(self, url: str, what: str) -> None:
        """Check the host of a URL or DSN (``http://h:p``, ``postgresql://u@h:p/db``)."""
        parts = urlsplit(url if "://" in url else f"tcp://{url}")
        if parts.hostname is None and parts.scheme in ("unix", "http+unix", "npipe"):
            return  # a local socket
        self.check_host(parts.hostname or "", what)

    def check_address(self, address: str, what: str) -> None:
        """Check a ``host:port`` address."""
        host, _, _ = address.rpartition(":")
        self.check_host(host or address, what)

    def _addresses(self, name: str, what: str) -> list[str]:
        try:
            addresses = self._resolve(name)
        except OSError as error:
            raise UnsafeTargetError(
                what, f"refusing {name}: it does not resolve ({error}); use an IP or localhost"
            ) from None
        if not addresses:
            raise UnsafeTargetError(what, f"refusing {name}: it resolves to no address")
        return addresses


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True
