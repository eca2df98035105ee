"""The services' HTTP client against a real socket: keep-alive, deadlines, failures."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import pytest

from spikekit.reference_platform.common.http_client import (
    ConnectFailed,
    HttpPool,
    RequestTimeout,
)
from spikekit.reference_platform.common.service_auth import (
    TIMESTAMP_HEADER,
    Signer,
    Verifier,
)

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


class Server:
    """Answers ``{}`` to every request on a connection; ``/slow`` after two seconds."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.heads: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                self.heads.append(head)
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


async def _serve(
    scenario: Callable[[HttpPool], Awaitable[None]],
    size: int = 4,
    signer: Signer | None = None,
    server: Server | None = None,
) -> Server:
    server = server or Server()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    pool = HttpPool([f"http://127.0.0.1:{port}"], size=size, signer=signer)
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


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = [line.split(": ", 1) for line in lines if ": " in line]
    return {name: value for name, value in pairs}


def test_a_signing_pool_signs_each_request_once_it_holds_its_slot() -> None:
    body = b'{"amount":500}'
    server = Server()
    started = int(time.time())

    async def scenario(pool: HttpPool) -> None:
        slow = asyncio.create_task(pool.request("POST", "/slow", body, timeout=10))
        await asyncio.sleep(0.1)  # the only slot is taken for two seconds
        await pool.request("POST", "/v1/players/p1/deposit", body, timeout=10)
        await slow

    asyncio.run(_serve(scenario, size=1, signer=Signer("payments", "k-payments"), server=server))
    first, second = (_headers(head) for head in server.heads)
    verifier = Verifier.of("wallet", {"payments": ["k-payments"]})
    assert verifier.authenticate("POST", "/slow", first, body) == "payments"
    assert verifier.authenticate("POST", "/v1/players/p1/deposit", second, body) == "payments"
    assert int(second[TIMESTAMP_HEADER]) - started >= 1, "signed before its wait for the slot"
