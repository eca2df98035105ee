"""The players' HTTP/1.1 transport: one bounded pool of keep-alive sockets per worker.

Through Locust's ``FastHttpSession`` a player's request cost about 63 µs of CPU, where a
raw ``GET /`` costs 29: most of it in what players never use (redirects and retries in the
user agent, response wrappers, header dictionaries merged per request, a context manager
per answer). This transport does only what a player's request needs, on gevent sockets:

- :class:`ConnectionPool`: at most ``connections`` sockets to one origin, shared by every player
  of the worker (a bounded semaphore; idle sockets kept last-in, first-out), with a
  connect timeout and a network timeout on every send and receive. A socket the server
  closed while it sat idle is noticed before use (a zero-timeout ``select``) and replaced;
  one idle longer than ``idle_s`` (4 s, below uvicorn's 5 s keep-alive and the usual
  servers' longer ones) is closed unused: else the server's close can cross our request on
  the wire — the request is lost unread, and a POST, never resent, fails without the
  platform having seen it. A socket that timed out or failed is closed, never reused.
- :class:`Connection`: one socket and its ``httptools`` (llhttp, C) response parser.
  A request on a reused socket that the server closed before answering is retried once
  on a fresh connection if its method is idempotent (RFC 9110 §9.2.2: a POST may have
  been applied); otherwise the error is the request's failure.
- :class:`Pools`: the worker's pools, one per origin, built on first use.

Requests arrive already encoded (:mod:`spikekit.load.client` builds them); answers come
back as :class:`Answer` (status, raw headers, body). Not supported, because the platform's
API needs none of them: redirects, compressed answers (requests say
``Accept-Encoding: identity``), ``Expect: 100-continue``, ``HEAD`` requests, proxies.

Errors of a request, as the request event records them (never raised out of a player)::

    OSError                 from the socket, unchanged: refused, reset, timed out
                            (``TimeoutError``), EMFILE / EADDRNOTAVAIL (generator faults)
    PoolClosed              also a RuntimeError: the worker's pool was closed (a generator fault)
    HttpFailure             (spikekit's root) no usable answer
    ├── ConnectionClosed    the server closed the connection before its answer ended
    ├── BadAnswer           the answer is not valid HTTP/1.x
    └── UnexpectedStatus    an answer, with a status the player did not expect

One more, which is not an error of the request: :class:`RequestCut` (a ``GreenletExit``)
replaces the ``GreenletExit`` that kills a player while its request is out (sent, its
answer not read: the platform may have received it). The player still dies of it; the
client fires the request event with it first, so the request is counted apart ("cut"),
neither as a request nor as a failure.
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import gevent.lock
import gevent.socket
import gevent.ssl
import httptools
from gevent import GreenletExit
from gevent.monkey import get_original

from spikekit.errors import SpikekitError

#: The real ``select.select``: with a zero timeout it never blocks, and gevent's patched
#: one costs three times as much.
_select = get_original("select", "select")
RECEIVE_BYTES = 65_536
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})


class HttpFailure(SpikekitError):
    """A request got no usable answer; carries the URL (not in the message: Locust's error
    table groups failures by endpoint name and message, not by each URL)."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(message)


class ConnectionClosed(HttpFailure):
    """The server closed the connection before its answer ended."""


class BadAnswer(HttpFailure):
    """The answer is not valid HTTP/1.x."""


class UnexpectedStatus(HttpFailure):
    """The platform answered, with a status the player did not expect."""

    def __init__(self, url: str, status: int) -> None:
        self.status = status
        super().__init__(url, f"status {status}")


class RequestCut(GreenletExit):  # type: ignore[misc]  # gevent is untyped
    """The player was killed (Locust's stop after ``stop_timeout``, the worker's quit) after
    its request was sent and before its answer ended; carries the URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"stopped with its request out: {url}")


class PoolClosed(SpikekitError, RuntimeError):
    """The worker's pool was closed (the message is what the recorder calls a generator
    fault, as it did for geventhttpclient's pool)."""

    def __init__(self) -> None:
        super().__init__("connection pool closed")


@dataclass(frozen=True)
class Origin:
    """Where a pool connects: the scheme, host and port of a base URL."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, base_url: str) -> Origin:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {base_url!r}")
        return cls(parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme])

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


class Answer:
    """Status, headers as received (names in the server's case) and body of an answer."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class _ClosedBeforeAnswer(Exception):
    """Internal: the socket died before a byte of the answer arrived (``error`` says how)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class Connection:
    """One socket and its response parser; answers are read one at a time (one parser
    reads every answer of a keep-alive connection)."""

    __slots__ = (
        "_body",
        "_complete",
        "_headers",
        "_keep_alive",
        "_status",
        "idle_since",
        "parser",
        "reused",
        "sock",
    )

    def __init__(self, sock: gevent.socket.socket) -> None:
        self.sock = sock
        self.parser = httptools.HttpResponseParser(self)
        self.reused = False
        self.idle_since = 0.0  # time.monotonic() when it last went back to the pool
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._status = 0
        self._keep_alive = False
        self._complete = False

    # --- the parser's callbacks --------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._status = self.parser.get_status_code()
        self._keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._complete = True

    # --- one exchange --------------------------------------------------------------------

    def idle_and_open(self) -> bool:
        """Whether the idle socket is still open: nothing to read (no FIN, no stray bytes)."""
        try:
            readable, _, _ = _select([self.sock], [], [], 0.0)
        except (OSError, ValueError):
            return False
        return not readable

    def exchange(self, request: bytes, url: str) -> tuple[Answer, bool]:
        """Send ``request``, read its answer; (answer, whether the socket may be reused).

        A kill that lands once the request is sent becomes :class:`RequestCut`."""
        self._headers, self._body, self._status, self._complete = [], [], 0, False
        try:
            self.sock.sendall(request)
        except (ConnectionResetError, BrokenPipeError) as error:
            raise _ClosedBeforeAnswer(error) from None
        try:
            return self._read_answer(url)
        except GreenletExit:
            raise RequestCut(url) from None

    def _read_answer(self, url: str) -> tuple[Answer, bool]:
        sock = self.sock
        try:
            data = sock.recv(RECEIVE_BYTES)
        except (ConnectionResetError, BrokenPipeError) as error:
            raise _ClosedBeforeAnswer(error) from None
        if not data:
            raise _ClosedBeforeAnswer(ConnectionClosed(url, "closed without an answer"))
        parser = self.parser
        while True:
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as error:
                raise BadAnswer(url, f"invalid HTTP answer ({error})") from None
            if self._complete:
                break
            data = sock.recv(RECEIVE_BYTES)
            if not data:
                if self._ends_at_close():
                    return self._answer(), False
                raise ConnectionClosed(url, "closed in the middle of an answer")
        return self._answer(), self._keep_alive

    def _answer(self) -> Answer:
        body = self._body
        return Answer(self._status, self._headers, body[0] if len(body) == 1 else b"".join(body))

    def _ends_at_close(self) -> bool:
        """An answer whose headers are in, without a length: its body ends with the socket."""
        if not self._status:
            return False
        names = {name.lower() for name, _ in self._headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@dataclass(frozen=True)
class PoolLimits:
    connections: int
    network_timeout_s: float
    connect_timeout_s: float
    idle_s: float = 4.0  # an idle socket older than this is closed, not reused


class ConnectionPool:
    """At most ``limits.connections`` keep-alive sockets to ``origin``, shared by every
    player of the worker; a player waits for a free one."""

    def __init__(self, origin: Origin, limits: PoolLimits) -> None:
        self.origin = origin
        self.limits = limits
        self._slots = gevent.lock.BoundedSemaphore(limits.connections)
        self._idle: list[Connection] = []
        self._closed = False
        self._tls = _insecure_tls() if origin.scheme == "https" else None
        self.opened = 0  # sockets connected over the pool's life

    @property
    def idle(self) -> int:
        return len(self._idle)

    def send(self, request: bytes, url: str, *, idempotent: bool) -> Answer:
        """One request and its answer; raises what :mod:`spikekit.load.http` lists."""
        self._slots.acquire()
        try:
            if self._closed:
                raise PoolClosed()
            connection = self._checkout()
            try:
                return self._exchange(connection, request, url)
            except _ClosedBeforeAnswer as closed:
                if not (connection.reused and idempotent):
                    raise closed.error from None
            try:  # a stale keep-alive socket: once more, on a fresh one
                return self._exchange(self._connect(), request, url)
            except _ClosedBeforeAnswer as closed:
                raise closed.error from None
        finally:
            self._slots.release()

    def _checkout(self) -> Connection:
        idle = self._idle
        if idle:
            oldest_usable = time.monotonic() - self.limits.idle_s
            while idle:
                connection = idle.pop()
                if connection.idle_since < oldest_usable:
                    # last in, first out: every socket under it has been idle even longer
                    connection.close()
                    self._close_all(idle)
                    break
                if connection.idle_and_open():
                    return connection
                connection.close()  # the server closed it while it was idle
        return self._connect()

    @staticmethod
    def _close_all(connections: list[Connection]) -> None:
        for connection in connections:
            connection.close()
        connections.clear()

    def _connect(self) -> Connection:
        limits, origin = self.limits, self.origin
        sock = gevent.socket.create_connection(
            (origin.host, origin.port), timeout=limits.connect_timeout_s
        )
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=origin.host)
            sock.settimeout(limits.network_timeout_s)
        except BaseException:
            sock.close()
            raise
        self.opened += 1
        return Connection(sock)

    def _exchange(self, connection: Connection, request: bytes, url: str) -> Answer:
        try:
            answer, reusable = connection.exchange(request, url)
        except BaseException:
            connection.close()  # timed out, reset, killed mid-answer: never reused
            raise
        if reusable and not self._closed:
            connection.reused = True
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        return answer

    def close(self) -> None:
        """Close the idle sockets; those in use close when their answer is in."""
        self._closed = True
        self._close_all(self._idle)


def _insecure_tls() -> gevent.ssl.SSLContext:
    """Like Locust's ``insecure=True``: TLS without checking the platform's certificate."""
    context = gevent.ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = gevent.ssl.CERT_NONE
    return context


class Pools:
    """The worker's pools, one per origin (the players' base URL), built on first use."""

    def __init__(self, limits: PoolLimits) -> None:
        self.limits = limits
        self._pools: dict[Origin, ConnectionPool] = {}

    def for_url(self, base_url: str) -> ConnectionPool:
        origin = Origin.parse(base_url)
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = ConnectionPool(origin, self.limits)
        return pool

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
