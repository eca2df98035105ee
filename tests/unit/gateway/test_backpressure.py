"""The in-flight bound and the middleware that answers 503 + Retry-After beyond it."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from starlette.types import Message, Receive, Scope, Send

from spikekit.reference_platform.gateway.entrypoints.errors import Backpressure
from spikekit.reference_platform.gateway.service_layer.backpressure import InFlightBound
from tests.unit.fake_clock import until


def test_admits_up_to_the_limit_then_refuses_until_one_leaves() -> None:
    levels: list[int] = []
    rejections: list[None] = []
    bound = InFlightBound(2, on_change=levels.append, on_reject=lambda: rejections.append(None))
    assert bound.try_enter() and bound.try_enter()
    assert not bound.try_enter()
    assert (bound.in_flight, bound.rejected, len(rejections)) == (2, 1, 1)
    bound.leave()
    assert bound.try_enter()
    assert levels == [1, 2, 1, 2]


def test_without_a_limit_it_counts_but_never_refuses() -> None:
    bound = InFlightBound(None)
    assert all(bound.try_enter() for _ in range(10_000))
    assert (bound.in_flight, bound.rejected) == (10_000, 0)


def test_misuse_is_an_error() -> None:
    with pytest.raises(ValueError):
        InFlightBound(0)
    with pytest.raises(RuntimeError):
        InFlightBound(1).leave()


class SlowApp:
    """An ASGI app that answers 200 once ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def _request(app: Backpressure, path: str) -> tuple[int, dict[bytes, bytes], bytes, float]:
    started = time.perf_counter()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "path": path, "method": "GET", "headers": []}
    await app(scope, receive, send)
    start, body = sent[0], sent[1]
    return start["status"], dict(start["headers"]), body["body"], time.perf_counter() - started


def test_excess_requests_get_503_with_retry_after_at_once_and_others_pass() -> None:
    async def scenario() -> None:
        inner = SlowApp()
        bound = InFlightBound(3)
        app = Backpressure(inner, bound, retry_after_s=2)
        admitted = [asyncio.create_task(_request(app, "/api/balance")) for _ in range(3)]
        await until(lambda: inner.calls == 3)  # all three are in
        refused = await asyncio.gather(*(_request(app, "/api/balance") for _ in range(5)))
        health = asyncio.create_task(_request(app, "/health"))  # not the players' API
        await until(lambda: inner.calls == 4)  # it reached the app, past the bound
        for status, headers, body, elapsed in refused:
            assert status == 503 and headers[b"retry-after"] == b"2"
            assert json.loads(body)["error"] == "overloaded"
            assert elapsed < 0.05
        inner.release.set()
        answers = await asyncio.gather(*admitted, health)
        assert [a[0] for a in answers] == [200, 200, 200, 200]
        assert (inner.calls, bound.in_flight, bound.rejected) == (4, 0, 5)

    asyncio.run(scenario())
