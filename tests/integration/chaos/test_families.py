"""Each fault family on the real stack: the effect is seen on a real request, then gone."""

from __future__ import annotations

import asyncio
import socket
import time

import asyncpg
import httpx
import pytest
import redis

from spikekit.chaos.base import FaultConfigError
from spikekit.chaos.context import ChaosContext
from spikekit.chaos.registry import build_fault
from spikekit.reference_platform.state import StackState
from spikekit.reference_platform.supervisor import Stack
from spikekit.scenarios.faults import (
    CachePause,
    DatabaseLock,
    DatabaseTerminateBackends,
    NetworkDown,
    NetworkLatency,
    ProcessKill,
    ProcessSigstop,
    QueueFlood,
)
from spikekit.scenarios.target import Service
from tests.integration.chaos.conftest import link


async def _query_s(address: str) -> float:
    conn = await asyncpg.connect(f"postgresql://postgres@{address}/spikekit", timeout=10)
    try:
        started = time.perf_counter()
        await conn.fetchval("SELECT 1")
        return time.perf_counter() - started
    finally:
        await conn.close()


def test_latency_toxic_slows_a_query_through_the_link_then_not(
    state: StackState, ctx: ChaosContext
) -> None:
    address = link(state, "gateway-postgres")
    spec = NetworkLatency(type="network.latency", at=0, link="gateway-postgres", latency_ms=300)
    with build_fault(spec, ctx, fault_id="slow-db") as fault:
        slowed = asyncio.run(_query_s(address))
        assert fault.active
    restored = asyncio.run(_query_s(address))
    assert slowed >= 0.3, f"a 300 ms latency toxic gave a {slowed * 1000:.0f} ms query"
    assert restored < 0.2, f"after the revert the query took {restored * 1000:.0f} ms"


def test_down_refuses_connections_until_reverted(state: StackState, ctx: ChaosContext) -> None:
    host, port = link(state, "gateway-redis").rsplit(":", 1)
    spec = NetworkDown(type="network.down", at=0, link="gateway-redis")
    with build_fault(spec, ctx, fault_id="redis-link-down"), pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=1).close()
    socket.create_connection((host, int(port)), timeout=1).close()


def test_unknown_link_is_a_config_error_naming_it(ctx: ChaosContext) -> None:
    spec = NetworkDown(type="network.down", at=0, link="gateway-nowhere")
    with pytest.raises(FaultConfigError, match="unknown link 'gateway-nowhere'"):
        build_fault(spec, ctx, fault_id="x").check()


def test_paused_redis_blocks_a_command_until_the_pause_ends(ctx: ChaosContext) -> None:
    assert ctx.redis_url is not None
    client = redis.Redis.from_url(ctx.redis_url, socket_timeout=5)
    spec = CachePause(type="cache.pause", at=0, mode="all")
    fault = build_fault(spec, ctx, fault_id="pause", duration_s=0.6)
    with client, fault:
        started = time.perf_counter()
        client.set("chaos:k", "v")
        blocked = time.perf_counter() - started
    with client:
        started = time.perf_counter()
        client.set("chaos:k", "v")
        after = time.perf_counter() - started
    assert blocked >= 0.4, f"SET during a 600 ms pause took {blocked * 1000:.0f} ms"
    assert after < 0.1


def test_a_flood_adds_its_messages_to_the_stream(ctx: ChaosContext) -> None:
    assert ctx.redis_url is not None
    with redis.Redis.from_url(ctx.redis_url) as client:
        before = int(client.xlen("chaos-flood"))
        spec = QueueFlood(type="queue.flood", at=0, stream="chaos-flood", messages=1200)
        with build_fault(spec, ctx, fault_id="flood"):
            pass
        assert int(client.xlen("chaos-flood")) == before + 1200


def test_a_flood_of_a_stream_nobody_reads_is_refused(ctx: ChaosContext) -> None:
    spec = QueueFlood(type="queue.flood", at=0, stream="paymnets.requests", messages=10)
    with pytest.raises(FaultConfigError, match=r"no stream 'paymnets\.requests'"):
        build_fault(spec, ctx, fault_id="typo").check()


async def _create_table(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE SCHEMA IF NOT EXISTS chaos_test;"
            "CREATE TABLE IF NOT EXISTS chaos_test.hot (id int PRIMARY KEY, v int)"
        )
    finally:
        await conn.close()


async def _insert_s(dsn: str, row: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET lock_timeout = '400ms'")
        started = time.perf_counter()
        await conn.execute("INSERT INTO chaos_test.hot VALUES ($1, 0)", row)
        return time.perf_counter() - started
    finally:
        await conn.close()


def test_a_held_lock_makes_a_write_on_the_table_wait(ctx: ChaosContext) -> None:
    dsn = ctx.postgres_dsn()
    asyncio.run(_create_table(dsn))
    ctx.db_schema = "chaos_test"
    spec = DatabaseLock(type="database.lock", at=0, table="hot")
    with build_fault(spec, ctx, fault_id="hot-lock"), pytest.raises(asyncpg.LockNotAvailableError):
        asyncio.run(_insert_s(dsn, 1))  # waited 400 ms for the lock, then gave up
    assert asyncio.run(_insert_s(dsn, 2)) < 0.2


async def _victim_then_query(dsn: str, fault_on: asyncio.Event, done: asyncio.Event) -> str:
    conn = await asyncpg.connect(dsn, server_settings={"application_name": "reporting-test"})
    try:
        await conn.fetchval("SELECT 1")
        fault_on.set()
        await done.wait()
        await asyncio.sleep(0.2)  # let the client read the server's goodbye
        await conn.fetchval("SELECT 1")
        return "survived"
    except Exception as error:  # whatever the client says about a dead connection
        return type(error).__name__
    finally:
        conn.terminate()


def test_terminate_backends_kills_the_services_connection(ctx: ChaosContext) -> None:
    dsn = ctx.postgres_dsn()
    spec = DatabaseTerminateBackends(
        type="database.terminate_backends", at=0, service=Service.REPORTING
    )

    async def scenario() -> str:
        fault_on, done = asyncio.Event(), asyncio.Event()
        victim = asyncio.create_task(_victim_then_query(dsn, fault_on, done))
        await fault_on.wait()
        await asyncio.to_thread(build_fault(spec, ctx, fault_id="kill-sessions").inject)
        done.set()
        return await victim

    outcome = asyncio.run(scenario())
    assert outcome != "survived", "the connection survived pg_terminate_backend"


def _health(url: str) -> str:
    try:
        return str(httpx.get(f"{url}/health", timeout=0.5).status_code)
    except httpx.TimeoutException:
        return "timeout"
    except httpx.HTTPError:
        return "down"


def test_sigstop_makes_health_time_out_and_sigcont_restores_it(
    state: StackState, ctx: ChaosContext
) -> None:
    url = next(s.url for s in state.services if s.service == "reporting")
    spec = ProcessSigstop(type="process.sigstop", at=0, service=Service.REPORTING)
    with build_fault(spec, ctx, fault_id="freeze"):
        assert _health(url) == "timeout"
    assert _health(url) == "200"


def test_a_killed_service_is_seen_dead_then_started_again_by_the_supervisor(
    stack: Stack, ctx: ChaosContext
) -> None:
    before = next(s for s in ctx.stack().services if s.service == "reporting")
    spec = ProcessKill(type="process.kill", at=0, service=Service.REPORTING, restart=False)
    fault = build_fault(spec, ctx, fault_id="crash")
    with fault:
        assert not before.ref().is_alive()
        assert _health(before.url) != "200"
    after = next(s for s in ctx.stack().services if s.service == "reporting")
    assert after.pid != before.pid and after.ref().is_alive()
    assert _health(after.url) == "200"
