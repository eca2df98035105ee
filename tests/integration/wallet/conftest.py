"""Each wallet test module gets its own database on the session's real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from spikekit.reference_platform.postgres import PostgresServer


async def _admin(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(statement, timeout=30)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def wallet_dsn(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database for this module; dropped afterwards."""
    name = "wallet_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    admin = postgres_server.dsn
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
