"""The player population of the bundled platform: wallet accounts and auth credentials.

Players ``p000001`` … ``pNNNNNN`` get a funded wallet account and a login
(``player000001`` / ``spike-<N mod 64>``), bulk-loaded with COPY. 200,000
players take a few seconds here.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from spikekit.reference_platform.auth.seed import seed_credentials
from spikekit.reference_platform.seed import SeedPlan, seed_accounts

DEFAULT_PLAYERS = 200_000


@dataclass(frozen=True)
class PopulationReport:
    players: int
    total_balance: int
    seconds: float


async def _seed(dsn: str, players: int, seed: int) -> PopulationReport:
    started = time.perf_counter()
    accounts, _ = await asyncio.gather(
        seed_accounts(dsn, SeedPlan(players=players, seed=seed)),
        seed_credentials(dsn, players),
    )
    return PopulationReport(players, accounts.total_balance, time.perf_counter() - started)


def seed_population(dsn: str, players: int = DEFAULT_PLAYERS, seed: int = 42) -> PopulationReport:
    """Replace accounts and credentials with ``players`` seeded players."""
    return asyncio.run(_seed(dsn, players, seed))
