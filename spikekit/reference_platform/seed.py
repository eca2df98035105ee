"""Seed the wallet with a player population, bulk-loaded with COPY.

``seed_accounts(dsn, players=200_000)`` empties the wallet tables and loads
accounts ``p000001`` ... with balances drawn from ``seed`` (same seed, same
population), plus one ``seed`` ledger entry per account so that ledger sums
match balances from the start. Login credentials are the auth service's own.

    python -m spikekit.reference_platform.seed DSN [--players N] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg

from spikekit.reference_platform.wallet.adapters.schema import ensure_schema, truncate

DEFAULT_PLAYERS = 200_000
SEED_SOURCE = "seed"
COPY_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class SeedPlan:
    players: int = DEFAULT_PLAYERS
    seed: int = 42
    min_balance: int = 1_000  # 10.00 in minor units
    max_balance: int = 100_000  # 1,000.00
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if self.players < 0 or not 0 <= self.min_balance <= self.max_balance:
            raise ValueError(f"invalid seed plan: {self}")


@dataclass(frozen=True)
class SeedReport:
    players: int
    total_balance: int
    seconds: float


def player_id(number: int) -> str:
    """``p000001`` for 1: the ids the load engine's personas log in with."""
    return f"p{number:06d}"


def balances(plan: SeedPlan) -> Iterator[tuple[str, int]]:
    """(player id, balance) for every player, deterministic from ``plan.seed``."""
    rng = random.Random(plan.seed)
    low, high = plan.min_balance, plan.max_balance
    for number in range(1, plan.players + 1):
        yield player_id(number), rng.randint(low, high)


async def seed_accounts(dsn: str, plan: SeedPlan | None = None) -> SeedReport:
    """Replace the wallet's content with ``plan.players`` funded accounts."""
    plan = plan or SeedPlan()
    started = time.perf_counter()
    rows = list(balances(plan))
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await ensure_schema(conn)
        async with conn.transaction():
            await truncate(conn)
            await conn.copy_records_to_table(
                "accounts",
                schema_name="wallet",
                columns=["player_id", "balance", "currency"],
                records=[(pid, balance, plan.currency) for pid, balance in rows],
                timeout=COPY_TIMEOUT_S,
            )
            await conn.copy_records_to_table(
                "ledger_entries",
                schema_name="wallet",
                columns=["player_id", "provider", "tx_id", "kind", "amount", "balance_after"],
                records=[(pid, SEED_SOURCE, pid, SEED_SOURCE, b, b) for pid, b in rows],
                timeout=COPY_TIMEOUT_S,
            )
        await conn.execute("ANALYZE wallet.accounts", timeout=COPY_TIMEOUT_S)
    finally:
        await conn.close(timeout=10)
    total = sum(balance for _, balance in rows)
    return SeedReport(len(rows), total, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seed the wallet with funded player accounts.")
    parser.add_argument("dsn", help="postgresql://... of the platform's database")
    parser.add_argument("--players", type=int, default=DEFAULT_PLAYERS)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    report = asyncio.run(seed_accounts(args.dsn, SeedPlan(players=args.players, seed=args.seed)))
    print(
        f"seeded {report.players} players, total balance {report.total_balance} minor units, "
        f"in {report.seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
