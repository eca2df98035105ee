"""One real stack per profile — PostgreSQL, Redis, the wallet, payments and a worker, auth,
a studio and the router — and what the security tests read from it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import pytest
import redis

from spikekit.reference_platform.seed import SeedPlan, seed_accounts
from spikekit.reference_platform.spec import Profile, ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.supervisor import Stack

PLAYERS = 20
OPENING_BALANCE = 10_000
RP = "spikekit.reference_platform"
SERVICES = (
    ServiceSpec(
        name="wallet", app=f"{RP}.wallet.entrypoints.app:create_app", needs=("postgres", "redis")
    ),
    ServiceSpec(
        name="payments", app=f"{RP}.payments.entrypoints.api:create_app", needs=("redis", "wallet")
    ),
    ServiceSpec(
        name="payments-worker",
        app=f"{RP}.payments.entrypoints.worker:create_app",
        needs=("redis", "wallet"),
    ),
    ServiceSpec(
        name="auth", app=f"{RP}.auth.entrypoints.app:create_app", needs=("postgres", "redis")
    ),
    ServiceSpec(name="provider-aurora", app=f"{RP}.providers.app:create_app", needs=("wallet",)),
    ServiceSpec(
        name="router", app=f"{RP}.router.app:create_app", needs=("redis", "provider-aurora")
    ),
)
# read by the children at spawn: no declined payment, cheap argon2 for registrations
ENV = {
    "SPIKEKIT_PAYMENTS_DECLINE_RATE": "0",
    "SPIKEKIT_AUTH_ARGON2_TIME_COST": "1",
    "SPIKEKIT_AUTH_ARGON2_MEMORY_KIB": "8192",
}


@dataclass
class Secured:
    """The running stack: its keys, URLs, database and Redis."""

    stack: Stack
    dsn: str
    redis: redis.Redis
    profile: Profile

    def url(self, name: str) -> str:
        assert self.stack.state is not None
        return next(s.url for s in self.stack.state.services if s.name == name)

    def balances(self) -> dict[str, int]:
        return dict(asyncio.run(_rows(self.dsn, "SELECT player_id, balance FROM wallet.accounts")))

    def ledger_size(self) -> int:
        rows = asyncio.run(_rows(self.dsn, "SELECT 'n', count(*) FROM wallet.ledger_entries"))
        return int(rows[0][1])

    def usernames(self) -> set[str]:
        """Every username with credentials at auth."""
        rows = asyncio.run(_rows(self.dsn, "SELECT username, 0 FROM auth.credentials"))
        return {name for name, _ in rows}

    def sessions(self) -> int:
        """Live sessions at auth (its Redis sorted set of session digests)."""
        return int(self.redis.zcard("auth:sessions"))


async def _rows(dsn: str, sql: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return [(str(r[0]), int(r[1])) for r in await conn.fetch(sql, timeout=30)]
    finally:
        await conn.close()


@pytest.fixture(scope="module", params=[Profile.RESILIENT, Profile.FRAGILE], ids=str)
def secured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Secured]:
    """Security is not a resilience switch: every test runs against both profiles."""
    profile: Profile = request.param
    spec = StackSpec(services=SERVICES, profile=profile, toxiproxy=ToxiproxyMode.OFF)
    stack = Stack(spec, tmp_path_factory.mktemp(f"security-{profile}") / "stack")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENV.items():
            patch.setenv(name, value)
        stack.start()
    try:
        state = stack.state
        assert state is not None
        dsn, address = state.backing_address("postgres"), state.backing_address("redis")
        assert dsn is not None and address is not None
        plan = SeedPlan(players=PLAYERS, min_balance=OPENING_BALANCE, max_balance=OPENING_BALANCE)
        asyncio.run(seed_accounts(dsn, plan))
        client = redis.Redis.from_url(address, decode_responses=True)
        try:
            yield Secured(stack, dsn, client, profile)
        finally:
            client.close()
    finally:
        stack.stop()
