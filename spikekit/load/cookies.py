"""A cookie jar that costs nothing while there are no cookies.

Every Locust ``FastHttpUser`` sends each request through ``http.cookiejar.CookieJar``: it
takes a lock, reads the clock, walks the jar to build a ``Cookie`` header and parses the
answer's headers for ``Set-Cookie`` — several microseconds a request even when the site never
sets a cookie (the platform's API authenticates with a bearer token). :class:`LeanCookieJar`
skips exactly the calls that would do nothing: adding a ``Cookie`` header from an empty jar,
and extracting cookies from an answer without ``Set-Cookie`` or ``Set-Cookie2``. Once a site
sets a cookie, every call goes through ``CookieJar`` as before, so players keep and send
cookies exactly as a stock ``FastHttpUser`` does.
"""

from __future__ import annotations

from http.cookiejar import CookieJar
from typing import Any


class LeanCookieJar(CookieJar):
    def add_cookie_header(self, request: Any) -> None:
        if self._cookies:  # type: ignore[attr-defined]  # CookieJar's own store
            super().add_cookie_header(request)

    def extract_cookies(self, response: Any, request: Any) -> None:
        headers = response.info()  # header lookups are case-insensitive
        if "Set-Cookie" in headers or "Set-Cookie2" in headers:
            super().extract_cookies(response, request)
