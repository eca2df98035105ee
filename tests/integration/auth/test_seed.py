"""Seeded credentials: COPY-loaded, and a seeded player logs in with its documented password."""

from __future__ import annotations

import asyncio

import asyncpg

from spikekit.reference_platform.auth.domain import seed_password
from spikekit.reference_platform.auth.seed import seed_credentials
from spikekit.reference_platform.auth.settings import (
    DEFAULT_MEMORY_KIB,
    DEFAULT_PARALLELISM,
    DEFAULT_TIME_COST,
)
from tests.integration.auth.conftest import CHEAP, MakeSettings, login, metric, serve

CHEAP_COST = (CHEAP["auth_argon2_time_cost"], CHEAP["auth_argon2_memory_kib"], 1)


async def _count(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM auth.credentials"))
    finally:
        await conn.close()


def test_seeded_player_logs_in_with_its_documented_password(
    make_settings: MakeSettings, auth_dsn: str
) -> None:
    async def scenario() -> None:
        report = await seed_credentials(auth_dsn, 2_000, cost=CHEAP_COST)
        assert report.count == 2_000 and await _count(auth_dsn) == 2_000
        again = await seed_credentials(auth_dsn, 1_000, cost=CHEAP_COST)  # replaces
        assert again.count == 1_000 and await _count(auth_dsn) == 1_000
        async with serve(make_settings()) as client:
            assert seed_password(100) == "spike-36"
            response = await login(client, "player000100", "spike-36")
            assert response.status_code == 200, response.text
            assert response.json()["player_id"] == "p000100"
            assert (await login(client, "player000100", "spike-37")).status_code == 401
            assert (await login(client, "player001001", "spike-25")).status_code == 401

    asyncio.run(scenario())


def test_at_the_default_cost_a_login_is_the_expensive_path(
    make_settings: MakeSettings, auth_dsn: str
) -> None:
    """The default argon2id cost (19 MiB, 3 passes) takes tens of milliseconds, not microseconds."""

    async def scenario() -> None:
        cost = (DEFAULT_TIME_COST, DEFAULT_MEMORY_KIB, DEFAULT_PARALLELISM)
        await seed_credentials(auth_dsn, 8, cost=cost, pool=2)
        settings = make_settings(
            auth_argon2_time_cost=DEFAULT_TIME_COST,
            auth_argon2_memory_kib=DEFAULT_MEMORY_KIB,
        )
        async with serve(settings) as client:
            for n in (1, 2, 3):
                response = await login(client, f"player00000{n}", seed_password(n, pool=2))
                assert response.status_code == 200, response.text
            text = (await client.get("/metrics")).text
        mean_s = metric(text, "auth_argon2_verify_seconds_sum") / 3
        assert mean_s > 0.005, mean_s  # about 28 ms here; the cheap test cost about 1 ms

    asyncio.run(scenario())
