"""Seeding: deterministic accounts, bulk-loaded, ledger consistent from the start."""

from __future__ import annotations

import asyncio

from spikekit.reference_platform.audit import audit
from spikekit.reference_platform.seed import SeedPlan, balances, seed_accounts

from .harness import query, scalar


def test_seeding_loads_deterministic_funded_accounts(wallet_dsn: str) -> None:
    plan = SeedPlan(players=20_000, seed=7)

    async def run() -> None:
        report = await seed_accounts(wallet_dsn, plan)
        assert report.players == 20_000
        assert report.seconds < 15
        again = await seed_accounts(wallet_dsn, plan)  # replaces, same population
        assert again.total_balance == report.total_balance
        assert await scalar(wallet_dsn, "SELECT count(*) FROM wallet.accounts") == 20_000
        rows = await query(
            wallet_dsn, "SELECT player_id, balance FROM wallet.accounts ORDER BY 1 LIMIT 2"
        )
        assert [(r["player_id"], r["balance"]) for r in rows] == list(balances(plan))[:2]
        assert rows[0]["player_id"] == "p000001"
        assert (await audit(wallet_dsn)).ok

    asyncio.run(run())
