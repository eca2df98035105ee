"""Two router replicas' breakers on one real Redis: an opening is shared within the window.

A replica reads a breaker from Redis at most once per ``share_s``; its own failures reach
Redis at once. So the replica that opens a breaker refuses the next call at once, and
another replica refuses it once its copy is older than ``share_s``, not before.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from spikekit.reference_platform.redis_server import RedisServer
from spikekit.reference_platform.router import breakers as breakers_module
from spikekit.reference_platform.router.breakers import BreakerOpen, Breakers
from spikekit.reference_platform.router.provider_client import ProviderFailed
from tests.unit.fake_clock import FakeClock


def _replica(url: str, clock: FakeClock) -> Breakers:
    return Breakers(True, 2, 60.0, ProviderFailed, url, share_s=0.25, monotonic=clock.now)


async def _fail(breakers: Breakers, studio: str) -> None:
    with pytest.raises(ProviderFailed):
        async with breakers.guard(studio):
            raise ProviderFailed(studio, "status 503", ambiguous=False)


async def _succeed(breakers: Breakers, studio: str) -> None:
    async with breakers.guard(studio):
        pass


def test_an_opening_reaches_the_other_replica_after_its_share_window(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(breakers_module, "PREFIX", f"test-{uuid.uuid4().hex[:8]}-")
    clock = FakeClock(start=100.0)
    one, two = _replica(redis_server.url, clock), _replica(redis_server.url, clock)
    studio = "aurora"

    async def scenario() -> None:
        try:
            await _succeed(two, studio)  # replica two holds a copy: closed
            await _fail(one, studio)
            await _fail(one, studio)  # threshold 2: opened, and saved in Redis
            with pytest.raises(BreakerOpen):
                await _succeed(one, studio)  # the replica that opened it: at once
            await _succeed(two, studio)  # two's copy is still fresh: not yet seen
            await clock.advance(0.3)  # past share_s
            with pytest.raises(BreakerOpen):
                await _succeed(two, studio)
            assert await two.state(studio) == "opened"
        finally:
            await one.close()
            await two.close()

    asyncio.run(scenario())
