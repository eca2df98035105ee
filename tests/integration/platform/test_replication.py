"""A real streaming standby of the wallet's PostgreSQL: replication, lag, the synchronous
mode's guarantee (RPO 0) and its cost, and promotion."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from spikekit.reference_platform.postgres import PostgresConfig, PostgresServer
from spikekit.reference_platform.replication import ReplicationMode, StandbyServer

SMALL = PostgresConfig(max_connections=40, shared_buffers="32MB")


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path / "primary", SMALL)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _execute(dsn: str, *sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in sql:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _count(dsn: str) -> int:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM ledger"))
    finally:
        await conn.close()


async def _until(dsn: str, rows: int, timeout: float = 10.0) -> bool:
    for _ in range(int(timeout / 0.05)):
        if await _count(dsn) == rows:
            return True
        await asyncio.sleep(0.05)
    return False


def test_a_standby_streams_serves_reads_refuses_writes_and_is_promoted(
    primary: PostgresServer, tmp_path: Path
) -> None:
    asyncio.run(
        _execute(
            primary.dsn,
            "CREATE TABLE ledger (id bigserial PRIMARY KEY, cents bigint NOT NULL)",
            "INSERT INTO ledger (cents) SELECT g FROM generate_series(1, 100) g",
        )
    )
    standby = StandbyServer(tmp_path / "standby", primary, name="region-b")
    standby.start()
    try:

        async def scenario() -> None:
            assert await _count(standby.dsn) == 100  # the base backup
            await _execute(primary.dsn, "INSERT INTO ledger (cents) VALUES (7), (8)")
            assert await _until(standby.dsn, 102)  # streamed
            lag = await standby.lag()
            assert (lag.state, lag.sync_state) == ("streaming", "async")
            assert lag.bytes_behind >= 0
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await _execute(standby.dsn, "INSERT INTO ledger (cents) VALUES (1)")

            await standby.set_mode(ReplicationMode.SYNC)
            for _ in range(50):
                if (await standby.lag()).sync_state == "sync":
                    break
                await asyncio.sleep(0.1)
            assert (await standby.lag()).sync_state == "sync"
            await _execute(primary.dsn, "INSERT INTO ledger (cents) VALUES (9)")

        asyncio.run(scenario())
        primary.stop()  # the primary's region is lost
        asyncio.run(standby.promote())

        async def after() -> None:
            assert await _count(standby.dsn) == 103  # synchronous: no acknowledged commit lost
            await _execute(standby.dsn, "INSERT INTO ledger (cents) VALUES (10)")
            assert await _count(standby.dsn) == 104

        asyncio.run(after())
    finally:
        standby.stop()


def test_a_lost_synchronous_standby_blocks_commits_until_the_mode_is_relaxed(
    primary: PostgresServer, tmp_path: Path
) -> None:
    asyncio.run(_execute(primary.dsn, "CREATE TABLE ledger (cents bigint)"))
    standby = StandbyServer(tmp_path / "standby", primary, mode=ReplicationMode.SYNC)
    standby.start()
    standby.stop()

    async def scenario() -> None:
        conn = await asyncpg.connect(primary.dsn, timeout=10)
        try:
            insert = asyncio.ensure_future(conn.execute("INSERT INTO ledger VALUES (1)"))
            done, _ = await asyncio.wait({insert}, timeout=1.0)
            assert not done, "a commit returned with its synchronous standby gone"
            await standby.set_mode(ReplicationMode.ASYNC)  # the operator's choice: RPO > 0
            await asyncio.wait_for(insert, 10)
        finally:
            await conn.close()
        assert (await standby.lag()).state == "absent"

    asyncio.run(scenario())
