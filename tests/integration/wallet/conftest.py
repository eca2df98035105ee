"""Each wallet test module gets its own database on the session's real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from spikekit.reference_platform.postgres import PostgresServer
from tests.integration.wallet.harness import execute


@pytest.fixture(scope="module")
def wallet_dsn(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database for this module; dropped afterwards."""
    name = "wallet_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    admin = postgres_server.dsn
    asyncio.run(execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(execute(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
