"""The in-process lobby copy in front of the shared store (no Redis needed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry

from spikekit.reference_platform.gateway.adapters.lobby_cache import DirectLobby, LocalLobby
from spikekit.reference_platform.gateway.adapters.metrics import GatewayMetrics


class CountingStore:
    def __init__(self) -> None:
        self.asked = 0

    async def get(self, load: Callable[[], Awaitable[bytes]]) -> bytes:
        self.asked += 1
        return await load()


async def load() -> bytes:
    return b'{"games":[]}'


def test_the_local_copy_serves_until_its_ttl_then_asks_the_store_again() -> None:
    now = [100.0]
    store = CountingStore()
    registry = CollectorRegistry()
    lobby = LocalLobby(store, 1.0, GatewayMetrics(registry), clock=lambda: now[0])

    async def three() -> list[bytes]:
        return [await lobby.get(load) for _ in range(3)]

    assert asyncio.run(three()) == [b'{"games":[]}'] * 3
    assert store.asked == 1
    now[0] += 1.0
    asyncio.run(lobby.get(load))
    assert store.asked == 2
    local = registry.get_sample_value("gateway_lobby_cache_total", {"result": "local"})
    assert local == 2


def test_the_direct_lobby_always_loads() -> None:
    calls: list[int] = []

    async def counted() -> bytes:
        calls.append(1)
        return b"{}"

    lobby = DirectLobby()
    for _ in range(3):
        asyncio.run(lobby.get(counted))
    assert len(calls) == 3
