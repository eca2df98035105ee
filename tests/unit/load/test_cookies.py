"""The players' cookie jar: free while empty, a plain CookieJar as soon as a site sets one."""

from __future__ import annotations

import email.message
import urllib.request
from http.cookiejar import CookieJar

import pytest

from spikekit.load.cookies import LeanCookieJar

URL = "http://127.0.0.1:8080/api/lobby"


class Answer:
    """What ``CookieJar.extract_cookies`` reads of a response: ``info()``, the headers."""

    def __init__(self, *headers: tuple[str, str]) -> None:
        self.headers = email.message.Message()
        for name, value in headers:
            self.headers[name] = value

    def info(self) -> email.message.Message:
        return self.headers


def cookie_sent(jar: CookieJar) -> str | None:
    request = urllib.request.Request(URL)
    jar.add_cookie_header(request)
    return request.get_header("Cookie")


@pytest.mark.parametrize("jar_type", [CookieJar, LeanCookieJar])
def test_no_cookie_set_means_no_cookie_sent(jar_type: type[CookieJar]) -> None:
    jar = jar_type()
    jar.extract_cookies(Answer(("Content-Type", "application/json")), urllib.request.Request(URL))  # type: ignore[arg-type]
    assert len(jar) == 0
    assert cookie_sent(jar) is None


@pytest.mark.parametrize("header", ["Set-Cookie", "set-cookie", "SET-COOKIE"])
def test_a_cookie_the_site_sets_is_sent_back_as_a_stock_jar_does(header: str) -> None:
    stock, lean = CookieJar(), LeanCookieJar()
    for jar in (stock, lean):
        answer = Answer((header, "edge=abc123; Path=/"))
        jar.extract_cookies(answer, urllib.request.Request(URL))  # type: ignore[arg-type]
    assert [c.value for c in lean] == [c.value for c in stock] == ["abc123"]
    assert cookie_sent(lean) == cookie_sent(stock) == "edge=abc123"


def test_the_client_side_calls_go_through_cookiejars_rules() -> None:
    jar = LeanCookieJar()
    assert jar.header_for(URL) is None
    jar.take(URL, ["edge=abc123; Path=/api", "other=x; Path=/elsewhere"])
    jar.take(URL, [])  # an answer without cookies changes nothing
    assert jar.header_for(URL) == "edge=abc123"
    assert jar.header_for("http://127.0.0.1:8080/elsewhere/x") == "other=x"
    assert jar.header_for("http://other-host/api/lobby") is None
