"""The auth app in-process (lifespan included) against the session's real PostgreSQL and Redis.

Each test module gets its own database on the shared server; each test starts
with an empty Redis database number of its own (other modules share the server).
The argon2 cost is lowered to about a millisecond unless a test says otherwise. The
app accepts :data:`GATEWAY_KEY` and the client signs with it, as the gateway does
(register and login are for the gateway only).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
import redis

from spikekit.reference_platform.auth.entrypoints.app import create_app
from spikekit.reference_platform.auth.settings import AuthSettings
from spikekit.reference_platform.common.service_auth import GATEWAY, Signer
from spikekit.reference_platform.common.signed_httpx import SignedAuth
from spikekit.reference_platform.postgres import PostgresServer
from spikekit.reference_platform.redis_server import RedisServer

REDIS_DB = 11
MakeSettings = Callable[..., AuthSettings]
CHEAP = {"auth_argon2_time_cost": 1, "auth_argon2_memory_kib": 1024, "auth_argon2_parallelism": 1}
GATEWAY_KEY = "gateway-test-key"


async def _admin(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def auth_dsn(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for this test module."""
    name = "auth_" + re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])
    admin = postgres_server.dsn
    asyncio.run(_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin(admin, f"CREATE DATABASE {name}"))
    yield admin.rsplit("/", 1)[0] + "/" + name
    asyncio.run(_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def auth_redis(redis_server: RedisServer) -> Iterator[str]:
    """A Redis URL on a database number of auth's own, emptied before the test."""
    url = redis_server.url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    yield url


@pytest.fixture
def make_settings(auth_dsn: str, auth_redis: str) -> MakeSettings:
    """Settings on this module's database, emptied (the app recreates the schema)."""
    asyncio.run(_admin(auth_dsn, "DROP SCHEMA IF EXISTS auth CASCADE"))

    def build(**overrides: object) -> AuthSettings:
        values: dict[str, object] = {
            "database_url": auth_dsn,
            "redis_url": auth_redis,
            "profile": "resilient",
            "auth_gauge_interval_s": 0.05,
            "caller_keys": {GATEWAY: [GATEWAY_KEY]},
            **CHEAP,
            **overrides,
        }
        return AuthSettings.model_validate(values)

    return build


@asynccontextmanager
async def serve(settings: AuthSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and a client that talks to it in-process, signing
    as the gateway."""
    app = create_app(settings)
    auth = SignedAuth(Signer(GATEWAY, GATEWAY_KEY))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://auth", auth=auth
        ) as client:
            yield client


async def register(client: httpx.AsyncClient, username: str, password: str) -> str:
    response = await client.post("/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    return str(response.json()["player_id"])


async def login(
    client: httpx.AsyncClient, username: str, password: str, address: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return await client.post(
        "/login", json={"username": username, "password": password}, headers=headers
    )


def metric(text: str, name: str) -> float:
    """The value of one Prometheus sample line, e.g. ``auth_logins_total{outcome="ok"}``."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}")
