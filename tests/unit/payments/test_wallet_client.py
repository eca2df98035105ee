"""The payments' wallet client retries what is safe to repeat, with jitter, then gives up.

A small HTTP server on 127.0.0.1 plays the wallet: it answers from a script and records
every request, so the retries are real requests over real sockets.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from spikekit.reference_platform.payments.adapters.wallet_client import RETRY_CAP_S, HttpWallet
from spikekit.reference_platform.payments.domain import Unavailable


class ScriptedWallet:
    """Answers each request with the next status of ``script`` (the last one repeats)."""

    def __init__(self, script: list[int]) -> None:
        self.script = script
        self.requests: list[tuple[str, float]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        while head := await reader.readuntil(b"\r\n\r\n"):
            lines = head.decode().split("\r\n")
            length = next(
                (int(h.split(":")[1]) for h in lines if h.lower().startswith("content-length")), 0
            )
            await reader.readexactly(length)
            self.requests.append((lines[0], loop.time()))
            status = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
            body = json.dumps({"status": "ok", "balance": 700} if status == 200 else {}).encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()


@asynccontextmanager
async def wallet_at(script: list[int]) -> AsyncIterator[tuple[ScriptedWallet, str]]:
    wallet = ScriptedWallet(script)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await wallet.serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()  # the client hung up, or the server is shutting down

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield wallet, f"http://127.0.0.1:{port}"


def test_a_503_then_an_answer_is_retried_and_credited() -> None:
    asyncio.run(_test_a_503_then_an_answer_is_retried_and_credited())


async def _test_a_503_then_an_answer_is_retried_and_credited() -> None:
    async with wallet_at([503, 503, 200]) as (wallet, url):
        client = HttpWallet([url], timeout_s=2.0, signer=None, attempts=3)
        outcome = await client.deposit("p-1", "key-1", 500)
        await client.close()
    assert outcome.ok and outcome.balance == 700
    assert [line for line, _ in wallet.requests] == ["POST /v1/players/p-1/deposit HTTP/1.1"] * 3
    gaps = [b - a for (_, a), (_, b) in zip(wallet.requests, wallet.requests[1:], strict=False)]
    assert all(0 <= gap <= RETRY_CAP_S + 0.5 for gap in gaps), gaps


def test_it_gives_up_after_its_attempts_with_the_last_reason() -> None:
    asyncio.run(_test_it_gives_up_after_its_attempts_with_the_last_reason())


async def _test_it_gives_up_after_its_attempts_with_the_last_reason() -> None:
    async with wallet_at([502]) as (wallet, url):
        client = HttpWallet([url], timeout_s=2.0, signer=None, attempts=4)
        with pytest.raises(Unavailable, match="HTTP 502"):
            await client.withdraw("p-1", "key-2", 100)
        await client.close()
    assert len(wallet.requests) == 4


def test_a_refusal_is_not_retried() -> None:
    asyncio.run(_test_a_refusal_is_not_retried())


async def _test_a_refusal_is_not_retried() -> None:
    async with wallet_at([404]) as (wallet, url):
        client = HttpWallet([url], timeout_s=2.0, signer=None, attempts=3)
        outcome = await client.deposit("nobody", "key-3", 100)
        await client.close()
    assert not outcome.ok
    assert len(wallet.requests) == 1
