"""A latency toxic on a real PostgreSQL link slows a real query; removal restores it."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from spikekit.reference_platform.postgres import DATABASE, SUPERUSER, PostgresServer
from spikekit.toxiproxy.client import RemovalOutcome, ToxicType, ToxiproxyClient

pytestmark = pytest.mark.toxiproxy


async def _timed_query(conn: asyncpg.Connection) -> float:
    start = time.perf_counter()
    assert await conn.fetchval("SELECT count(*) FROM pg_class") > 0
    return time.perf_counter() - start


def test_latency_on_the_postgres_link(
    toxiproxy: ToxiproxyClient, postgres_server: PostgresServer
) -> None:
    link = toxiproxy.create_proxy(
        "wallet_postgres", listen="127.0.0.1:0", upstream=f"127.0.0.1:{postgres_server.port}"
    )

    async def scenario() -> tuple[float, float, float]:
        conn = await asyncpg.connect(
            host=link.listen_host, port=link.listen_port, user=SUPERUSER, database=DATABASE
        )
        try:
            before = await _timed_query(conn)
            toxiproxy.add_toxic(link.name, ToxicType.LATENCY, {"latency": 200}, name="slow_db")
            during = await _timed_query(conn)  # the live connection is slowed too
            outcome = toxiproxy.remove_toxic_or_reset(link.name, "slow_db")
            assert outcome is RemovalOutcome.REMOVED
            after = await _timed_query(conn)
            return before, during, after
        finally:
            await conn.close()

    before, during, after = asyncio.run(scenario())
    assert before < 0.100
    assert during >= 0.200  # the toxic holds each reply back by its latency
    assert after < 0.100
