"""A player's HTTP client: its requests, encoded once, and Locust's request event for each.

Every player holds a :class:`PlayerClient` over the worker's shared pool
(:mod:`spikekit.load.http`). The headers that stay the same from request to request —
``Host``, the player's ``X-Forwarded-For`` and, once logged in, its bearer token — are one
pre-built block, rebuilt only when the address or token changes; a request is that block,
its request line, and for a JSON body ``Content-Type`` and ``Content-Length``.

The client fires Locust's ``request`` event itself, with the fields Locust's
``FastHttpSession`` fires (``request_type``, ``name``, ``response_time`` in ms from the
send — waiting for a pooled socket included — to the end of the answer,
``response_length``, ``response``, ``context``, ``exception``, ``url``, ``start_time``), so
Locust's statistics and the worker's recorder see every request as before. ``exception`` is
None for an answer whose status the caller expects; else the socket's own error (a refused
connection, a timeout, EMFILE ...), :class:`~spikekit.load.http.PoolClosed`, or an
:class:`~spikekit.load.http.HttpFailure` (:class:`~spikekit.load.http.UnexpectedStatus` for
an answer with any other status). A player killed while its request is out (sent, the
answer not read) fires the event with :class:`~spikekit.load.http.RequestCut` and dies of it:
the recorder counts such a request apart, as *cut*.

Cookies: the platform's API sets none (it authenticates with a bearer token), yet a site that
does gets them back: the first ``Set-Cookie`` gives the player a
:class:`~spikekit.load.cookies.LeanCookieJar`, and from then on every request carries what
the jar says (``http.cookiejar``'s rules). Without cookies this costs nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Container, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from spikekit.load.cookies import LeanCookieJar
from spikekit.load.http import (
    IDEMPOTENT,
    ConnectionPool,
    HttpFailure,
    PoolClosed,
    RequestCut,
    UnexpectedStatus,
)

#: Failures of a request that the event records (anything else is a bug and propagates).
REQUEST_ERRORS = (OSError, HttpFailure, PoolClosed)
USER_AGENT = "spikekit"


class RequestEvent(Protocol):
    """Locust's ``environment.events.request`` (an ``EventHook``)."""

    def fire(self, **kwargs: Any) -> None: ...


class Reply:
    """What a request got: the answer's status (0 without one), headers and body, and the
    error recorded for it (None when the status was expected)."""

    __slots__ = ("body", "error", "headers", "status", "url")

    def __init__(
        self,
        url: str,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        error: BaseException | None,
    ) -> None:
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.error = error

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.headers if k.lower() == wanted]


class PlayerClient:
    """One player's requests to ``base_url`` (its path, if any, prefixes every request path)
    over the worker's ``pool``; each fires ``request_event``."""

    def __init__(self, pool: ConnectionPool, base_url: str, request_event: RequestEvent) -> None:
        self.pool = pool
        self.base_url = base_url.rstrip("/")
        self._prefix = urlsplit(self.base_url).path
        self._fire = request_event.fire
        self.cookies: LeanCookieJar | None = None  # made by the first Set-Cookie
        self._address: str | None = None
        self._token: str | None = None
        self._headers = self._header_block()

    def identify(self, address: str | None, token: str | None) -> None:
        """The player's client address (``X-Forwarded-For``) and bearer token, or None."""
        if address != self._address or token != self._token:
            self._address, self._token = address, token
            self._headers = self._header_block()

    def _header_block(self) -> str:
        lines = [
            f"Host: {self.pool.origin.host_header}",
            f"User-Agent: {USER_AGENT}",
            "Accept: application/json",
            "Accept-Encoding: identity",
        ]
        if self._address:
            lines.append(f"X-Forwarded-For: {self._address}")
        if self._token:
            lines.append(f"Authorization: Bearer {self._token}")
        return "".join(f"{line}\r\n" for line in lines)

    def request(
        self,
        method: str,
        path: str,
        name: str,
        *,
        body: Mapping[str, Any] | None = None,
        ok: Container[int] = (200,),
        context: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request, fire the request event, return the reply (never raises for a
        failed request: the reply carries its error).

        ``headers``: extra headers of this request only (a journey's session token); a
        value with a line break raises ``ValueError`` (no header injection).
        """
        extra = headers_block(headers)
        start_time = time.time()
        url = self.base_url + path
        block = self._headers + extra
        if self.cookies is not None:
            block += _cookie_line(self.cookies, url)
        if body is None:
            request = f"{method} {self._prefix}{path} HTTP/1.1\r\n{block}\r\n".encode("latin-1")
        else:
            payload = json.dumps(body).encode()
            request = (
                f"{method} {self._prefix}{path} HTTP/1.1\r\n{block}"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            ).encode("latin-1") + payload
        began = time.perf_counter()
        try:
            answer = self.pool.send(request, url, idempotent=method in IDEMPOTENT)
        except REQUEST_ERRORS as failed:
            reply = Reply(url, 0, [], b"", failed)
        except RequestCut as cut:  # the player is being killed: count the request, then die
            ms = (time.perf_counter() - began) * 1000.0
            self._fire_event(method, name, ms, start_time, Reply(url, 0, [], b"", cut), context)
            raise
        else:
            status = answer.status
            unexpected = None if status in ok else UnexpectedStatus(url, status)
            reply = Reply(url, status, answer.headers, answer.body, unexpected)
        response_time = (time.perf_counter() - began) * 1000.0
        if reply.headers and _sets_cookies(reply.headers):
            self._keep_cookies(url, reply)
        self._fire_event(method, name, response_time, start_time, reply, context)
        return reply

    def _fire_event(
        self,
        method: str,
        name: str,
        response_time: float,
        start_time: float,
        reply: Reply,
        context: Mapping[str, Any] | None,
    ) -> None:
        self._fire(
            request_type=method,
            name=name,
            response_time=response_time,
            response_length=len(reply.body),
            response=reply,
            context=dict(context) if context else {},
            exception=reply.error,
            url=reply.url,
            start_time=start_time,
        )

    def _keep_cookies(self, url: str, reply: Reply) -> None:
        if self.cookies is None:
            self.cookies = LeanCookieJar()
        self.cookies.take(
            url, reply.header_values("Set-Cookie"), reply.header_values("Set-Cookie2")
        )


def headers_block(headers: Mapping[str, str] | None) -> str:
    """``Name: value\r\n`` lines; ``ValueError`` for a name or value with a line break."""
    if not headers:
        return ""
    lines = []
    for name, value in headers.items():
        if any(c in name or c in value for c in "\r\n\0") or ":" in name:
            raise ValueError(f"header {name!r}: a value without line breaks")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines)


def _cookie_line(jar: LeanCookieJar, url: str) -> str:
    cookie = jar.header_for(url)
    return "" if cookie is None else f"Cookie: {cookie}\r\n"


def _sets_cookies(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, _ in headers:
        if len(name) in (10, 11) and name.lower() in (b"set-cookie", b"set-cookie2"):
            return True
    return False
