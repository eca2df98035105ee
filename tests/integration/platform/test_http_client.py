"""The services' HTTP client against a real socket: keep-alive, deadlines, failures."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from spikekit.reference_platform.common.http_client import (
    ConnectFailed,
    HttpPool,
    RequestTimeout,
)

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


class Server:
    """Answers ``{}`` to every request on a connection; ``/slow`` after two seconds."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                if b" /slow " in head:
                    await asyncio.sleep(2)
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def _serve(scenario: Callable[[HttpPool], Awaitable[None]]) -> Server:
    server = Server()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    pool = HttpPool([f"http://127.0.0.1:{port}"], size=4)
    try:
        await scenario(pool)
    finally:
        await pool.aclose()
        listening.close()
        await listening.wait_closed()
    return server


def test_requests_share_kept_alive_connections_up_to_the_pool_size() -> None:
    async def scenario(pool: HttpPool) -> None:
        for _ in range(5):
            answer = await pool.request("POST", "/v1/rounds", b'{"bet":1}')
            assert (answer.status, answer.json()) == (200, {})
        await asyncio.gather(*(pool.request("GET", "/v1/games") for _ in range(20)))

    server = asyncio.run(_serve(scenario))
    assert server.requests == 25
    assert server.connections <= 4


def test_no_answer_within_the_deadline_is_a_timeout_and_the_connection_is_dropped() -> None:
    async def scenario(pool: HttpPool) -> None:
        with pytest.raises(RequestTimeout):
            await pool.request("GET", "/slow", timeout=0.2)
        assert (await pool.request("GET", "/fast")).status == 200

    server = asyncio.run(_serve(scenario))
    assert server.connections == 2


def test_a_refused_connection_is_connect_failed() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        pool = HttpPool([f"http://127.0.0.1:{port}"])
        try:
            with pytest.raises(ConnectFailed):
                await pool.request("GET", "/")
        finally:
            await pool.aclose()

    asyncio.run(scenario())
