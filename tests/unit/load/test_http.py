"""The players' transport without a server: origins, and answers parsed off a socket pair."""

from __future__ import annotations

from collections.abc import Iterator

import gevent.socket
import pytest

from spikekit.load.client import Reply
from spikekit.load.http import Answer, BadAnswer, Connection, ConnectionClosed, Origin

URL = "http://127.0.0.1:8080/api/lobby"
REQUEST = b"GET /api/lobby HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"


@pytest.mark.parametrize(
    ("url", "origin", "host"),
    [
        ("http://127.0.0.1:8080", Origin("http", "127.0.0.1", 8080), "127.0.0.1:8080"),
        ("http://gateway/prefix/", Origin("http", "gateway", 80), "gateway"),
        ("https://gateway", Origin("https", "gateway", 443), "gateway"),
        ("https://[::1]:8443", Origin("https", "::1", 8443), "[::1]:8443"),
    ],
)
def test_an_origin_is_scheme_host_and_port(url: str, origin: Origin, host: str) -> None:
    assert Origin.parse(url) == origin
    assert origin.host_header == host


@pytest.mark.parametrize("url", ["ftp://gateway", "gateway:8080", "http://"])
def test_only_http_urls_have_an_origin(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        Origin.parse(url)


@pytest.fixture
def pair() -> Iterator[tuple[Connection, gevent.socket.socket]]:
    """A connection whose server is the other end of a socket pair (answers written ahead)."""
    ours, theirs = gevent.socket.socketpair()
    ours.settimeout(2.0)
    yield Connection(ours), theirs
    ours.close()
    theirs.close()


def test_answers_follow_each_other_on_a_keep_alive_connection(
    pair: tuple[Connection, gevent.socket.socket],
) -> None:
    connection, server = pair
    server.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 7\r\nX-Id: 1\r\n\r\n{"a":1}')
    answer, reusable = connection.exchange(REQUEST, URL)
    assert (answer.status, answer.body, reusable) == (200, b'{"a":1}', True)
    assert answer.headers == [(b"Content-Length", b"7"), (b"X-Id", b"1")]
    server.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
    answer, reusable = connection.exchange(REQUEST, URL)
    assert (answer.status, answer.body, answer.headers, reusable) == (204, b"", [], True)
    assert server.recv(1000) == REQUEST * 2


def test_an_answer_in_pieces_and_chunks_is_put_together(
    pair: tuple[Connection, gevent.socket.socket],
) -> None:
    connection, server = pair
    pieces = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", b"\r\n3\r\nabc\r\n"]
    pieces += [b"2\r\nde\r\n0\r\n", b"\r\n"]

    def serve() -> None:
        for piece in pieces:
            server.sendall(piece)
            gevent.sleep(0.01)

    writer = gevent.spawn(serve)
    answer, reusable = connection.exchange(REQUEST, URL)
    writer.join()
    assert (answer.body, reusable) == (b"abcde", True)


def test_connection_close_means_not_reusable(
    pair: tuple[Connection, gevent.socket.socket],
) -> None:
    connection, server = pair
    server.sendall(b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    answer, reusable = connection.exchange(REQUEST, URL)
    assert (answer.status, reusable) == (503, False)


def test_a_body_cut_short_is_a_closed_connection(
    pair: tuple[Connection, gevent.socket.socket],
) -> None:
    connection, server = pair
    server.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a":')
    server.shutdown(gevent.socket.SHUT_WR)
    with pytest.raises(ConnectionClosed, match="middle of an answer"):
        connection.exchange(REQUEST, URL)


def test_garbage_is_a_bad_answer(pair: tuple[Connection, gevent.socket.socket]) -> None:
    connection, server = pair
    server.sendall(b"SMTP ready\r\n\r\n")
    with pytest.raises(BadAnswer, match="invalid HTTP answer") as raised:
        connection.exchange(REQUEST, URL)
    assert raised.value.url == URL


def test_header_lookups_ignore_case() -> None:
    headers = [(b"retry-after", b"3"), (b"Set-Cookie", b"a=1"), (b"set-cookie", b"b=2")]
    reply = Reply(URL, 503, headers, b"", None)
    assert reply.header("Retry-After") == "3"
    assert reply.header_values("SET-COOKIE") == ["a=1", "b=2"]
    assert reply.header("Location") is None
    assert Answer(503, headers, b"").status == 503
