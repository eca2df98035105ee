"""The stack supervisor against real PostgreSQL, Redis, Toxiproxy and service processes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from spikekit.errors import StackError
from spikekit.reference_platform.spec import ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.supervisor import Stack
from spikekit.toxiproxy.client import ToxiproxyClient
from tests.conftest import require_toxiproxy

GATEWAY = ServiceSpec(
    name="gateway",
    app="spikekit.reference_platform.gateway.app:create_app",
    needs=("postgres", "redis"),
)


def _spec(replicas: int = 1, toxiproxy: ToxiproxyMode = ToxiproxyMode.ON) -> StackSpec:
    return StackSpec(services=(GATEWAY,), toxiproxy=toxiproxy).with_replicas(gateway=replicas)


async def _query_time(dsn: str) -> float:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        started = time.perf_counter()
        await conn.fetchval("SELECT 1")
        return time.perf_counter() - started
    finally:
        await conn.close()


def test_two_gateway_replicas_are_healthy_and_everything_stops(tmp_path: Path) -> None:
    require_toxiproxy()
    with Stack(_spec(replicas=2), tmp_path / "stack") as stack:
        state = stack.state
        assert state is not None and state.status == "ready"
        assert [s.name for s in state.services] == ["gateway-1", "gateway-2"]
        for service in state.services:
            body = httpx.get(f"{service.url}/health", timeout=5).json()
            assert body["checks"] == {"postgres": "ok", "redis": "ok"}
            assert service.url.startswith("http://127.0.0.1:")
        assert {link.name for link in state.links} == {"gateway-postgres", "gateway-redis"}
        refs = [p.ref() for p in state.processes()]
        assert all(ref.is_alive() for ref in refs)
    assert not [ref for ref in refs if ref.is_alive()]


def test_a_second_stack_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    spec = _spec(toxiproxy=ToxiproxyMode.OFF)
    with Stack(spec, tmp_path / "stack"), pytest.raises(StackError, match="already running"):
        # our own PID is the live supervisor of the first stack
        Stack(spec, tmp_path / "stack").start()


def test_latency_toxic_on_the_postgres_link_slows_a_real_query(tmp_path: Path) -> None:
    require_toxiproxy()
    with Stack(_spec(), tmp_path / "stack") as stack:
        state = stack.state
        assert state is not None and state.toxiproxy_api is not None
        link = next(k for k in state.links if k.name == "gateway-postgres")
        dsn = f"postgresql://postgres@{link.listen}/spikekit"
        baseline = asyncio.run(_query_time(dsn))
        with ToxiproxyClient(state.toxiproxy_api) as client:
            client.add_toxic(link.name, "latency", {"latency": 300}, name="slow")
            slowed = asyncio.run(_query_time(dsn))
            client.remove_toxic(link.name, "slow")
        restored = asyncio.run(_query_time(dsn))
    assert slowed >= 0.3, f"latency toxic of 300 ms gave a {slowed * 1000:.0f} ms query"
    assert restored < 0.2, f"after removal the query took {restored * 1000:.0f} ms"
    assert baseline < 0.2


def test_a_service_that_cannot_start_stops_the_whole_stack(tmp_path: Path) -> None:
    broken = ServiceSpec(name="broken", app="spikekit.no_such_module:create_app")
    spec = StackSpec(services=(broken,), toxiproxy=ToxiproxyMode.OFF)
    stack = Stack(spec, tmp_path / "stack")
    with pytest.raises(StackError, match="broken did not start: exited"):
        stack.start()
    processes = [r.process for r in stack.replicas]
    assert all(p.poll() is not None for p in processes)
    leftovers = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []
