"""A small real stack for the payments and reporting tests, and what the tests do with it.

The stack is the real supervisor's: PostgreSQL, Redis, Toxiproxy on every link
when present, the wallet, the payments API, two payments workers and (for the
resilient tests) reporting, each a separate process. Settings reach the service
processes through ``SPIKEKIT_*`` variables of the test process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis

from spikekit.reference_platform.common import service_auth
from spikekit.reference_platform.common.service_auth import GATEWAY, StackKeys
from spikekit.reference_platform.common.signed_httpx import SignedAuth, StudioAuth
from spikekit.reference_platform.seed import SeedPlan, player_id, seed_accounts
from spikekit.reference_platform.spec import Profile, ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.state import ServiceInfo, StackState
from spikekit.reference_platform.supervisor import Stack

PLAYERS = 60
OPENING_BALANCE = 10_000
STREAM = "payments.requests"
GROUP = "payments-workers"
RP = "spikekit.reference_platform"
WALLET = ServiceSpec(
    name="wallet", app=f"{RP}.wallet.entrypoints.app:create_app", needs=("postgres", "redis")
)
PAYMENTS = ServiceSpec(
    name="payments", app=f"{RP}.payments.entrypoints.api:create_app", needs=("redis", "wallet")
)
WORKERS = ServiceSpec(
    name="payments-worker",
    app=f"{RP}.payments.entrypoints.worker:create_app",
    replicas=2,
    needs=("redis", "wallet"),
)
REPORTING = ServiceSpec(
    name="reporting",
    app=f"{RP}.reporting.entrypoints.app:create_app",
    needs=("postgres", "redis"),
)
# slow enough that a worker always holds a batch in flight; reclaim soon after a death
ENV = {
    "SPIKEKIT_PAYMENTS_PROVIDER_LATENCY_S": "0.15",
    "SPIKEKIT_PAYMENTS_PROVIDER_JITTER_S": "0.05",
    "SPIKEKIT_PAYMENTS_DECLINE_RATE": "0.05",
    "SPIKEKIT_PAYMENTS_RECLAIM_IDLE_S": "2",
    "SPIKEKIT_PAYMENTS_RECLAIM_INTERVAL_S": "0.5",
    "SPIKEKIT_PAYMENTS_GAUGE_INTERVAL_S": "0.2",
    "SPIKEKIT_REPORTING_LAG_INTERVAL_S": "0.2",
    "SPIKEKIT_REPORTING_BLOCK_MS": "200",
}


@dataclass
class Platform:
    """The running stack as the tests see it."""

    stack: Stack
    state: StackState
    dsn: str
    redis: redis.Redis

    def service(self, name: str) -> ServiceInfo:
        return next(s for s in self.state.services if s.name == name)

    def url(self, name: str) -> str:
        return self.service(name).url

    @property
    def keys(self) -> StackKeys:
        return self.stack.keys

    def as_gateway(self) -> SignedAuth:
        return SignedAuth(self.keys.signer(GATEWAY))

    def payments_keys(self) -> dict[str, Any]:
        """The key settings of a payments process of this stack (for one run in-process)."""
        return {
            "caller_key": self.keys.callers[service_auth.PAYMENTS],
            "caller_keys": self.keys.verifier_keys("payments"),
        }

    def payments_client(self, timeout: float = 10) -> httpx.Client:
        """The payments API, called as the gateway calls it (signed with its key)."""
        auth = SignedAuth(self.keys.signer(GATEWAY))
        return httpx.Client(base_url=self.url("payments"), timeout=timeout, auth=auth)

    def wallet_client(self, timeout: float = 10) -> httpx.Client:
        """The wallet, its provider API signed as the studio the path names."""
        auth = StudioAuth(self.keys.studios)
        return httpx.Client(base_url=self.url("wallet"), timeout=timeout, auth=auth)


@contextmanager
def running_platform(
    tmp: Path, services: tuple[ServiceSpec, ...], profile: Profile, env: dict[str, str]
) -> Iterator[Platform]:
    spec = StackSpec(services=services, profile=profile, toxiproxy=ToxiproxyMode.AUTO)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**ENV, **env}.items():
            patch.setenv(key, value)
        stack = Stack(spec, tmp / "stack")
        stack.start()  # the variables are read by the children at spawn
    try:
        state = stack.state
        assert state is not None
        dsn = state.backing_address("postgres")
        address = state.backing_address("redis")
        assert dsn is not None and address is not None
        plan = SeedPlan(players=PLAYERS, min_balance=OPENING_BALANCE, max_balance=OPENING_BALANCE)
        asyncio.run(seed_accounts(dsn, plan))
        client = redis.Redis.from_url(address, decode_responses=True)
        try:
            yield Platform(stack, state, dsn, client)
        finally:
            client.close()
    finally:
        stack.stop()


def players(count: int, first: int = 1) -> list[str]:
    return [player_id(n) for n in range(first, first + count)]


async def submit_all(
    platform: Platform, path: str, bodies: list[dict[str, Any]], concurrency: int = 32
) -> list[httpx.Response]:
    """POST every body to payments concurrently (bounded), as the gateway; the answers in
    order."""
    gate = asyncio.Semaphore(concurrency)
    auth = SignedAuth(platform.keys.signer(GATEWAY))
    async with httpx.AsyncClient(
        base_url=platform.url("payments"), timeout=30, auth=auth
    ) as client:

        async def one(body: dict[str, Any]) -> httpx.Response:
            async with gate:
                return await client.post(path, json=body)

        return list(await asyncio.gather(*(one(b) for b in bodies)))


def wait_until_final(platform: Platform, ids: list[str], timeout_s: float = 30.0) -> dict[str, str]:
    """Poll the payment hashes until none is pending; {id: stage}."""
    deadline = time.monotonic() + timeout_s
    while True:
        stages = stages_of(platform, ids)
        if all(s in ("completed", "failed") for s in stages.values()):
            return stages
        if time.monotonic() > deadline:
            waiting = [i for i, s in stages.items() if s not in ("completed", "failed")]
            raise AssertionError(f"{len(waiting)} payments still not final: {waiting[:5]}")
        time.sleep(0.2)


def held_by(platform: Platform, consumer: str) -> list[str]:
    """Stream entries delivered to ``consumer`` and not acknowledged."""
    rows = platform.redis.xpending_range(STREAM, GROUP, "-", "+", 10_000, consumername=consumer)
    return [str(row["message_id"]) for row in rows]


async def kill_when_busy(platform: Platform, victim: ServiceInfo, consumer: str) -> list[str]:
    """SIGKILL the worker once it holds a batch in flight; the entries it held.

    Read at the kill: a resilient survivor may reclaim them soon after (on a slow machine,
    before the test looks again)."""
    deadline = time.monotonic() + 10
    while True:
        assert time.monotonic() < deadline, "the worker never took a batch"
        if len(held_by(platform, consumer)) >= 4:
            # frozen first, so that it cannot acknowledge its batch between the look and the kill
            os.kill(victim.pid, signal.SIGSTOP)
            if len(held := held_by(platform, consumer)) >= 4:
                os.kill(victim.pid, signal.SIGKILL)
                return held
            os.kill(victim.pid, signal.SIGCONT)
        await asyncio.sleep(0.005)


def stages_of(platform: Platform, ids: list[str]) -> dict[str, str]:
    pipe = platform.redis.pipeline(transaction=False)
    for payment_id in ids:
        pipe.hget(f"payments:payment:{payment_id}", "stage")
    return dict(zip(ids, pipe.execute(), strict=True))


async def fetch(dsn: str, sql: str, *args: object) -> list[Any]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return list(await conn.fetch(sql, *args, timeout=30))
    finally:
        await conn.close()


def ledger_counts(platform: Platform, tx_ids: list[str]) -> dict[str, int]:
    """How many ledger entries the wallet holds per payments transaction id."""
    rows = asyncio.run(
        fetch(
            platform.dsn,
            "SELECT tx_id, count(*) AS n FROM wallet.ledger_entries "
            "WHERE provider = 'payments' AND tx_id = ANY($1::text[]) GROUP BY tx_id",
            tx_ids,
        )
    )
    return {str(r["tx_id"]): int(r["n"]) for r in rows}


def balances(platform: Platform, ids: list[str]) -> dict[str, int]:
    rows = asyncio.run(
        fetch(
            platform.dsn,
            "SELECT player_id, balance FROM wallet.accounts WHERE player_id = ANY($1::text[])",
            ids,
        )
    )
    return {str(r["player_id"]): int(r["balance"]) for r in rows}


def signed_call(
    client: httpx.Client, operation: str, body: dict[str, Any], provider: str = "aurora"
) -> httpx.Response:
    """A game provider's call to the wallet's seamless API (``client`` from
    :meth:`Platform.wallet_client` signs it)."""
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return client.post(f"/v1/providers/{provider}/{operation}", content=raw, headers=headers)
