"""The players' client and pool against a real HTTP server (``http_server.py``, its own
process): keep-alive, the pool's bound, timeouts, stale sockets, errors, the request event."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
import httpx
import pytest

from spikekit.load.client import PlayerClient, Reply
from spikekit.load.http import (
    ConnectionClosed,
    ConnectionPool,
    Origin,
    PoolClosed,
    PoolLimits,
    RequestCut,
    UnexpectedStatus,
)
from spikekit.load.pacing import LATE_MS
from spikekit.load.worker_stats import is_generator_error
from spikekit.ports import free_port, is_listening
from spikekit.processes import spawn, wait_until

SERVER = Path(__file__).with_name("http_server.py")
EVENT_FIELDS = {
    "request_type",
    "name",
    "response_time",
    "response_length",
    "response",
    "context",
    "exception",
    "url",
    "start_time",
}


@dataclass
class Server:
    url: str
    control: str

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.control}/stats", timeout=5).json())

    def reset(self) -> None:
        httpx.post(f"{self.control}/reset", timeout=5).raise_for_status()


class RequestEvent:
    """Records what Locust's request event would carry to its listeners."""

    def __init__(self) -> None:
        self.fired: list[dict[str, Any]] = []

    def fire(self, **kwargs: Any) -> None:
        self.fired.append(kwargs)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port, control = free_port(), free_port()
    argv = [sys.executable, str(SERVER), "--port", str(port), "--control-port", str(control)]
    process = spawn("http-server", argv, tmp_path_factory.mktemp("server") / "server.log")
    try:
        alive = lambda: process.poll() is None  # noqa: E731
        if not wait_until(lambda: is_listening(control), timeout=20, alive=alive):
            pytest.fail(f"the test server did not start:\n{process.log_tail()}")
        yield Server(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{control}")
    finally:
        process.stop(timeout=5)


_pools: list[ConnectionPool] = []


@pytest.fixture
def fresh(server: Server) -> Iterator[Server]:
    """The server, its counters reset, no connection of an earlier test still open; the
    test's pools are closed after it."""
    assert wait_until(lambda: server.stats()["open"] == 0, timeout=5)
    server.reset()
    yield server
    while _pools:
        _pools.pop().close()


def make_pool(
    url: str, connections: int = 8, network_timeout_s: float = 5.0, idle_s: float = 4.0
) -> ConnectionPool:
    limits = PoolLimits(connections, network_timeout_s, 5.0, idle_s)
    pool = ConnectionPool(Origin.parse(url), limits)
    _pools.append(pool)
    return pool


def client_for(server: Server, **limits: Any) -> tuple[PlayerClient, RequestEvent]:
    event = RequestEvent()
    pool = make_pool(server.url, **limits)
    return PlayerClient(pool, server.url, event), event


def body(reply: Reply) -> dict[str, Any]:
    return dict(json.loads(reply.body))


def test_keep_alive_one_connection_for_sequential_requests(fresh: Server) -> None:
    client, event = client_for(fresh)
    replies = [client.request("GET", "/echo", "/echo") for _ in range(10)]
    assert [r.status for r in replies] == [200] * 10
    assert [body(r)["carried"] for r in replies] == list(range(1, 11))
    assert client.pool.opened == 1 and client.pool.idle == 1
    assert fresh.stats()["accepted"] == 1
    assert [e["exception"] for e in event.fired] == [None] * 10


def test_json_body_and_headers_arrive_as_sent(fresh: Server) -> None:
    client, _ = client_for(fresh)
    client.identify("10.20.30.40", "tok-123")
    sent = {"session_id": "s-1", "bet": 20, "note": "é"}
    seen = body(client.request("POST", "/echo?x=1", "/echo", body=sent))
    assert seen["method"] == "POST" and seen["path"] == "/echo?x=1"
    assert json.loads(seen["body"]) == sent
    headers = seen["headers"]
    assert headers["host"] == fresh.url.removeprefix("http://")
    assert headers["x-forwarded-for"] == "10.20.30.40"
    assert headers["authorization"] == "Bearer tok-123"
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(json.dumps(sent).encode())
    client.identify("10.20.30.40", None)  # logged out: no token any more
    seen = body(client.request("GET", "/echo", "/echo"))
    assert "authorization" not in seen["headers"] and "content-length" not in seen["headers"]
    assert seen["headers"]["x-forwarded-for"] == "10.20.30.40"


def test_the_request_event_carries_locusts_fields(fresh: Server) -> None:
    client, event = client_for(fresh)
    context = {LATE_MS: 12.5}
    before = time.time()
    reply = client.request("POST", "/status/201", "/status/{code}", body={}, context=context)
    (fired,) = event.fired
    assert set(fired) == EVENT_FIELDS
    assert fired["request_type"] == "POST" and fired["name"] == "/status/{code}"
    assert fired["url"] == f"{fresh.url}/status/201"
    assert before <= fired["start_time"] <= time.time()
    assert 0 < fired["response_time"] < 5000
    assert fired["response"] is reply and fired["response_length"] == len(reply.body) > 0
    assert fired["context"] == context and fired["context"] is not context  # a copy
    assert isinstance(fired["exception"], UnexpectedStatus)  # 201 was not expected
    assert fired["exception"].status == 201 and reply.error is fired["exception"]


def test_statuses_the_caller_expects_are_successes_the_others_failures(fresh: Server) -> None:
    client, event = client_for(fresh)
    paid = client.request("POST", "/status/402", "/s", body={}, ok=(200, 402))
    busy = client.request("GET", "/status/503", "/s")
    missing = client.request("GET", "/nowhere", "/s")
    assert (paid.status, paid.error) == (402, None)
    assert busy.status == 503 and isinstance(busy.error, UnexpectedStatus)
    assert busy.header("retry-after") == busy.header("Retry-After") == "2"
    assert missing.status == 404 and isinstance(missing.error, UnexpectedStatus)
    assert [e["exception"] for e in event.fired] == [None, busy.error, missing.error]
    assert not any(is_generator_error(e["exception"]) for e in event.fired)
    assert client.pool.opened == 1  # error statuses keep the connection


def test_the_pool_never_holds_more_sockets_than_its_bound(fresh: Server) -> None:
    client, event = client_for(fresh, connections=4)

    def player() -> list[int]:
        return [client.request("GET", "/slow/10", "/slow").status for _ in range(5)]

    players = [gevent.spawn(player) for _ in range(40)]
    gevent.joinall(players, raise_error=True)
    assert all(p.value == [200] * 5 for p in players)
    stats = fresh.stats()
    assert stats["requests"] == 200
    assert stats["max_open"] <= 4 and stats["accepted"] <= 4 and client.pool.opened <= 4
    waited = max(e["response_time"] for e in event.fired)
    assert waited > 40  # a request's time includes its wait for a pooled socket


def test_a_timeout_is_a_failure_and_its_socket_is_closed(fresh: Server) -> None:
    client, event = client_for(fresh, network_timeout_s=0.3)
    reply = client.request("GET", "/slow/3000", "/slow")
    assert reply.status == 0 and isinstance(reply.error, TimeoutError)
    assert event.fired[0]["exception"] is reply.error and not is_generator_error(reply.error)
    assert 250 < event.fired[0]["response_time"] < 2000
    assert client.pool.idle == 0  # never handed out again
    assert wait_until(lambda: fresh.stats()["abandoned"] == 1, timeout=5)  # the server saw it
    assert client.request("GET", "/echo", "/echo").status == 200
    assert client.pool.opened == 2


def test_an_idle_socket_the_server_closed_is_replaced_before_use(fresh: Server) -> None:
    client, event = client_for(fresh)
    assert client.request("GET", "/close-after", "/close-after").status == 200
    assert client.pool.idle == 1
    assert wait_until(lambda: fresh.stats()["open"] == 0, timeout=5)
    reply = client.request("POST", "/echo", "/echo", body={"bet": 10})  # not idempotent
    assert reply.status == 200 and body(reply)["connection"] == 2
    assert [e["exception"] for e in event.fired] == [None, None]
    assert fresh.stats()["requests"] == 2


def test_a_stale_socket_is_retried_once_on_a_fresh_connection(fresh: Server) -> None:
    client, event = client_for(fresh)
    client.request("GET", "/drop-next", "/drop-next")  # the next request on it is dropped
    reply = client.request("GET", "/echo", "/echo")
    assert reply.status == 200 and body(reply)["connection"] == 2
    assert len(event.fired) == 2 and event.fired[1]["exception"] is None
    assert fresh.stats()["requests"] == 3  # the dropped one, then its retry
    client.request("GET", "/echo", "/echo")  # warm
    reply = client.request("GET", "/drop", "/drop")  # dropped again on the fresh one: once only
    assert isinstance(reply.error, ConnectionClosed) and not is_generator_error(reply.error)
    assert fresh.stats()["requests"] == 6


def test_a_post_on_a_stale_socket_is_not_sent_twice(fresh: Server) -> None:
    client, event = client_for(fresh)
    client.request("GET", "/drop-next", "/drop-next")
    reply = client.request("POST", "/echo", "/echo", body={"bet": 10})
    assert reply.status == 0 and isinstance(reply.error, ConnectionClosed)
    assert event.fired[1]["exception"] is reply.error
    assert fresh.stats()["requests"] == 2  # the POST reached the server once
    assert client.pool.idle == 0


def test_a_refused_connection_is_a_failure_not_a_generator_fault(fresh: Server) -> None:
    event = RequestEvent()
    url = f"http://127.0.0.1:{free_port()}"
    client = PlayerClient(make_pool(url), url, event)
    reply = client.request("GET", "/api/lobby", "/api/lobby")
    assert reply.status == 0 and isinstance(reply.error, ConnectionRefusedError)
    assert event.fired[0]["exception"] is reply.error and not is_generator_error(reply.error)


def test_out_of_file_descriptors_is_a_generator_fault(fresh: Server) -> None:
    client, event = client_for(fresh)
    gevent.sleep(0)  # the hub's own descriptors exist before the limit drops
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.dup(0)
    os.close(lowest_free)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))  # no new descriptor
    try:
        reply = client.request("GET", "/echo", "/echo")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert isinstance(reply.error, OSError) and is_generator_error(reply.error)
    assert event.fired[0]["exception"] is reply.error
    assert client.request("GET", "/echo", "/echo").status == 200  # the slot was given back


def test_a_closed_pool_is_a_generator_fault(fresh: Server) -> None:
    client, _ = client_for(fresh)
    assert client.request("GET", "/echo", "/echo").status == 200
    client.pool.close()
    reply = client.request("GET", "/echo", "/echo")
    assert isinstance(reply.error, PoolClosed) and is_generator_error(reply.error)
    assert wait_until(lambda: fresh.stats()["open"] == 0, timeout=5)  # idle sockets closed


def test_chunked_and_close_delimited_answers(fresh: Server) -> None:
    client, _ = client_for(fresh)
    assert body(client.request("GET", "/chunked", "/chunked")) == {"chunked": "yes", "n": 3}
    assert client.pool.idle == 1  # a chunked answer keeps the connection
    assert body(client.request("GET", "/eof", "/eof")) == {"until": "close"}
    assert client.pool.idle == 0 and client.pool.opened == 1  # closed with the answer


def test_cookies_the_site_sets_are_sent_back(fresh: Server) -> None:
    client, _ = client_for(fresh)
    assert "cookie" not in body(client.request("GET", "/echo", "/echo"))["headers"]
    assert client.cookies is None  # no jar until a site sets a cookie
    client.request("GET", "/set-cookie", "/set-cookie")
    assert body(client.request("GET", "/echo", "/echo"))["headers"]["cookie"] == "edge=abc123"


def green_wait(condition: Any, timeout: float = 5.0) -> bool:
    """Poll ``condition`` while letting the test's greenlets run (``gevent.sleep``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.02)
    return True


def test_a_player_killed_with_its_request_out_fires_the_event_as_cut(fresh: Server) -> None:
    client, event = client_for(fresh)
    player = gevent.spawn(client.request, "GET", "/slow/3000", "/slow")
    assert green_wait(lambda: fresh.stats()["requests"] == 1)  # it is out
    player.kill(block=True, timeout=5)  # what Locust does to a user after stop_timeout
    assert player.dead and isinstance(player.value, RequestCut)  # it dies of it
    (fired,) = event.fired
    assert isinstance(fired["exception"], RequestCut) and fired["name"] == "/slow"
    assert fired["exception"].url == f"{fresh.url}/slow/3000"
    assert client.pool.idle == 0  # its socket is closed, never reused
    assert wait_until(lambda: fresh.stats()["open"] == 0, timeout=5)


def test_a_player_killed_before_its_request_is_sent_fires_nothing(fresh: Server) -> None:
    client, event = client_for(fresh, connections=1)
    holder = gevent.spawn(client.request, "GET", "/slow/500", "/slow")
    assert green_wait(lambda: fresh.stats()["requests"] == 1)
    waiting = gevent.spawn(client.request, "GET", "/echo", "/echo")  # waits for the socket
    gevent.sleep(0.05)
    waiting.kill(block=True, timeout=5)
    holder.join(timeout=5)
    assert [e["name"] for e in event.fired] == ["/slow"] and event.fired[0]["exception"] is None
    assert fresh.stats()["requests"] == 1


def test_a_socket_idle_longer_than_the_limit_is_closed_not_reused(fresh: Server) -> None:
    client, event = client_for(fresh, idle_s=0.3)
    for _ in range(2):  # several sockets idle in the pool
        gevent.joinall([gevent.spawn(client.request, "GET", "/slow/50", "/slow") for _ in range(3)])
    assert client.pool.idle == 3
    assert body(client.request("GET", "/echo", "/echo"))["connection"] <= 3  # reused
    gevent.sleep(0.4)  # the server still holds them open: only their age says no
    reply = client.request("GET", "/echo", "/echo")
    assert reply.error is None and body(reply)["connection"] == 4  # a fresh one
    assert client.pool.opened == 4 and client.pool.idle == 1  # the old ones were closed
    assert green_wait(lambda: fresh.stats()["open"] == 1)
    assert fresh.stats()["requests"] == 8 and all(e["exception"] is None for e in event.fired)


def test_the_idle_limit_is_below_uvicorns_keep_alive() -> None:
    import uvicorn

    limits = PoolLimits(1, 1.0, 1.0)
    assert limits.idle_s < uvicorn.Config(app=None).timeout_keep_alive
