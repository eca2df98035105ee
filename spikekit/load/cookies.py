"""A cookie jar that costs nothing while there are no cookies.

A player's client (:mod:`spikekit.load.client`) makes its jar only when a site first sets
a cookie (the platform's API sets none: it authenticates with a bearer token), then asks it
for the ``Cookie`` header of every request (:meth:`LeanCookieJar.header_for`) and hands it
each answer's ``Set-Cookie`` headers (:meth:`LeanCookieJar.take`). Both go through
``http.cookiejar.CookieJar``'s own rules (domains, paths, expiry), on the standard library's
``urllib.request.Request``; so players keep and send cookies as a browser-like client does.

Used as a plain ``CookieJar`` (``add_cookie_header`` / ``extract_cookies``), it skips exactly
the calls that would do nothing: adding a ``Cookie`` header from an empty jar, and extracting
cookies from an answer without ``Set-Cookie`` or ``Set-Cookie2``.
"""

from __future__ import annotations

import email.message
import urllib.request
from collections.abc import Iterable, Sequence
from http.cookiejar import CookieJar
from typing import Any


class _Headers:
    """What ``CookieJar.extract_cookies`` reads of a response: ``info()``, its headers."""

    def __init__(self, headers: Iterable[tuple[str, str]]) -> None:
        self.message = email.message.Message()
        for name, value in headers:
            self.message[name] = value

    def info(self) -> email.message.Message:
        return self.message


class LeanCookieJar(CookieJar):
    def add_cookie_header(self, request: Any) -> None:
        if self._cookies:  # type: ignore[attr-defined]  # CookieJar's own store
            super().add_cookie_header(request)

    def extract_cookies(self, response: Any, request: Any) -> None:
        headers = response.info()  # header lookups are case-insensitive
        if "Set-Cookie" in headers or "Set-Cookie2" in headers:
            super().extract_cookies(response, request)

    def header_for(self, url: str) -> str | None:
        """The ``Cookie`` header a request to ``url`` carries, or None."""
        if not self._cookies:  # type: ignore[attr-defined]
            return None
        request = urllib.request.Request(url)
        super().add_cookie_header(request)
        return request.get_header("Cookie")

    def take(self, url: str, set_cookie: Sequence[str], set_cookie2: Sequence[str] = ()) -> None:
        """Keep the cookies an answer from ``url`` set."""
        headers = [("Set-Cookie", v) for v in set_cookie]
        headers += [("Set-Cookie2", v) for v in set_cookie2]
        if headers:
            super().extract_cookies(_Headers(headers), urllib.request.Request(url))  # type: ignore[arg-type]
