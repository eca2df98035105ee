"""Run the real wallet app in-process against the real PostgreSQL (and Redis) of the tests."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx

from spikekit.reference_platform.common.service_auth import GATEWAY, PAYMENTS, Signer
from spikekit.reference_platform.common.signed_httpx import SignedAuth
from spikekit.reference_platform.seed import SeedPlan, seed_accounts
from spikekit.reference_platform.wallet.entrypoints.app import create_app
from spikekit.reference_platform.wallet.settings import DEFAULT_PROVIDER_SECRETS, WalletSettings
from spikekit.reference_platform.wallet.signing import signed_headers

# the keys of the wallet's two callers in these tests (a stack draws its own at start)
CALLER_KEYS = {PAYMENTS: "payments-test-key", GATEWAY: "gateway-test-key"}
AS_PAYMENTS = SignedAuth(Signer(PAYMENTS, CALLER_KEYS[PAYMENTS]))
AS_GATEWAY = SignedAuth(Signer(GATEWAY, CALLER_KEYS[GATEWAY]))


@asynccontextmanager
async def running_wallet(
    dsn: str,
    *,
    redis_url: str | None = None,
    profile: str = "resilient",
    pool_size: int = 16,
    **overrides: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """The wallet app, lifespan started, behind an in-process HTTP client; ``overrides``
    are more settings (``wallet_batch_window_ms=5``). It accepts :data:`CALLER_KEYS`."""
    overrides.setdefault("caller_keys", {c: [k] for c, k in CALLER_KEYS.items()})
    settings = WalletSettings(
        database_url=dsn,
        redis_url=redis_url,
        profile=profile,
        wallet_pool_size=pool_size,
        wallet_db_timeout_s=10.0,
        wallet_request_timeout_s=30.0,
        **overrides,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://wallet", timeout=60
        ) as client:
            yield client


async def seed(dsn: str, players: int, balance: int) -> None:
    """Empty the wallet and fund players p000001... with ``balance`` each."""
    await seed_accounts(dsn, SeedPlan(players=players, min_balance=balance, max_balance=balance))


async def call(
    client: httpx.AsyncClient, operation: str, body: dict[str, Any], provider: str = "aurora"
) -> httpx.Response:
    """A signed provider call, as a game provider sends it."""
    raw = json.dumps(body).encode()
    headers = signed_headers(DEFAULT_PROVIDER_SECRETS[provider], raw)
    return await client.post(f"/v1/providers/{provider}/{operation}", content=raw, headers=headers)


def bet(player: str, tx: str, amount: int, round_id: str) -> dict[str, Any]:
    return {"player_id": player, "tx_id": tx, "round_id": round_id, "amount": amount}


def cancel(player: str, tx: str, original: str, round_id: str) -> dict[str, Any]:
    return {"player_id": player, "tx_id": tx, "round_id": round_id, "original_tx_id": original}


async def query(dsn: str, sql: str, *args: object) -> list[Any]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return list(await conn.fetch(sql, *args, timeout=30))
    finally:
        await conn.close()


async def execute(dsn: str, sql: str) -> None:
    """Run ``sql`` (several statements allowed, no arguments)."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql, timeout=30)
    finally:
        await conn.close()


async def scalar(dsn: str, sql: str, *args: object) -> Any:
    rows = await query(dsn, sql, *args)
    return rows[0][0]


async def batches(client: httpx.AsyncClient) -> tuple[int, int]:
    """(batches run, requests they held) so far, from the wallet's metrics."""
    text = (await client.get("/metrics")).text
    count = re.search(r"^wallet_batch_size_count ([\d.e+]+)$", text, re.MULTILINE)
    total = re.search(r"^wallet_batch_size_sum ([\d.e+]+)$", text, re.MULTILINE)
    assert count is not None and total is not None, "the wallet does not batch"
    return int(float(count.group(1))), int(float(total.group(1)))
