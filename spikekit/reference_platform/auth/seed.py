"""Credentials for the seeded player population, bulk-loaded with COPY.

Player ``N`` (from 1) is ``p`` + ``N`` on 6 digits, username ``player`` + ``N``
on 6 digits, password ``spike-<N mod 64>`` (see :func:`..domain.seed_password`).
200,000 argon2 hashes would take minutes, so only the 64 distinct passwords are
hashed (in threads, at the service's cost so that a seeded login costs what a
real one does) and their hashes are shared. That is fine for a test platform
and would be wrong anywhere else: equal hashes reveal equal passwords.

    python -m spikekit.reference_platform.auth.seed DSN COUNT
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import asyncpg

from spikekit.reference_platform.auth.adapters.passwords import argon2id
from spikekit.reference_platform.auth.adapters.postgres import COLUMNS, ensure_schema
from spikekit.reference_platform.auth.domain import (
    SEED_PASSWORD_POOL,
    seed_password,
    seed_player_id,
    seed_username,
)
from spikekit.reference_platform.auth.settings import (
    DEFAULT_MEMORY_KIB,
    DEFAULT_PARALLELISM,
    DEFAULT_TIME_COST,
)


@dataclass(frozen=True)
class SeedReport:
    count: int
    hash_s: float  # hashing the password pool
    copy_s: float  # TRUNCATE + COPY + commit

    @property
    def total_s(self) -> float:
        return self.hash_s + self.copy_s


def hash_pool(
    cost: tuple[int, int, int] = (DEFAULT_TIME_COST, DEFAULT_MEMORY_KIB, DEFAULT_PARALLELISM),
    pool: int = SEED_PASSWORD_POOL,
) -> list[str]:
    """The hash of ``spike-<i>`` for each i below ``pool``, computed on every core."""
    hasher = argon2id(*cost)
    with ThreadPoolExecutor(os.cpu_count() or 1) as executor:
        return list(executor.map(hasher.hash, (seed_password(i, pool) for i in range(pool))))


async def seed_credentials(
    dsn: str,
    count: int,
    *,
    cost: tuple[int, int, int] = (DEFAULT_TIME_COST, DEFAULT_MEMORY_KIB, DEFAULT_PARALLELISM),
    pool: int = SEED_PASSWORD_POOL,
    replace: bool = True,
    timeout: float = 120.0,
) -> SeedReport:
    """Load credentials for players 1..``count``; ``replace`` empties the table first."""
    if count < 0 or pool < 1:
        raise ValueError("count must be >= 0 and pool >= 1")
    started = time.perf_counter()
    hashes = await asyncio.to_thread(hash_pool, cost, pool)
    hashed = time.perf_counter()
    records = [(seed_player_id(n), seed_username(n), hashes[n % pool]) for n in range(1, count + 1)]
    conn = await asyncpg.connect(dsn, timeout=timeout, command_timeout=timeout)
    try:
        await ensure_schema(conn)
        async with conn.transaction():
            if replace:
                await conn.execute("TRUNCATE auth.credentials")
            await conn.copy_records_to_table(
                "credentials", schema_name="auth", records=records, columns=COLUMNS
            )
    finally:
        await conn.close()
    return SeedReport(count, hashed - started, time.perf_counter() - hashed)


def main(argv: list[str]) -> None:
    if len(argv) != 2 or not argv[1].isdigit():
        raise SystemExit("usage: python -m spikekit.reference_platform.auth.seed DSN COUNT")
    report = asyncio.run(seed_credentials(argv[0], int(argv[1])))
    print(
        f"seeded {report.count} credentials in {report.total_s:.2f} s "
        f"(hashing {report.hash_s:.2f} s, COPY {report.copy_s:.2f} s)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
