"""Reporting's tables in PostgreSQL (schema ``reporting``) and its unit of work.

- ``minute_aggregates``: one row per UTC minute, the sums of :class:`MinuteTotals`;
- ``minute_players``: (minute, player) pairs, so a player counts once per minute;
- ``counted_events``: the wallet event ids already added (dedupe across
  re-deliveries), pruned after ``retention``.

Each batch is three statements over arrays (``unnest``), whatever its size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from spikekit.reference_platform.reporting.domain import MinuteTotals
from spikekit.reference_platform.reporting.service_layer.ports import (
    AbstractUnitOfWork,
    Unavailable,
)

DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
SCHEMA_LOCK_ID = 0x5B1CE_0003
COLUMNS = [f.name for f in fields(MinuteTotals)]
DDL = f"""
CREATE SCHEMA IF NOT EXISTS reporting;
CREATE TABLE IF NOT EXISTS reporting.minute_aggregates (
    minute timestamptz PRIMARY KEY,
    {", ".join(f"{c} bigint NOT NULL DEFAULT 0" for c in COLUMNS)},
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS reporting.minute_players (
    minute timestamptz NOT NULL,
    player_id text NOT NULL,
    PRIMARY KEY (minute, player_id)
);
CREATE TABLE IF NOT EXISTS reporting.counted_events (
    event_id text PRIMARY KEY,
    counted_at timestamptz NOT NULL DEFAULT now()
);
"""
REMEMBER = """
INSERT INTO reporting.counted_events (event_id) SELECT unnest($1::text[])
ON CONFLICT DO NOTHING RETURNING event_id
"""
ADD_PLAYERS = """
INSERT INTO reporting.minute_players (minute, player_id)
SELECT * FROM unnest($1::timestamptz[], $2::text[])
ON CONFLICT DO NOTHING RETURNING minute
"""
_ARRAYS = ", ".join(f"${i + 2}::bigint[]" for i in range(len(COLUMNS)))
UPSERT = f"""
INSERT INTO reporting.minute_aggregates (minute, {", ".join(COLUMNS)})
SELECT * FROM unnest($1::timestamptz[], {_ARRAYS})
ON CONFLICT (minute) DO UPDATE SET
    {", ".join(f"{c} = minute_aggregates.{c} + EXCLUDED.{c}" for c in COLUMNS)},
    updated_at = now()
"""
READ = f"""
SELECT minute, {", ".join(COLUMNS)} FROM reporting.minute_aggregates
WHERE minute >= $1 ORDER BY minute
"""
PRUNE = [
    "DELETE FROM reporting.counted_events WHERE counted_at < now() - $1::interval",
    "DELETE FROM reporting.minute_players WHERE minute < now() - $1::interval",
]


def unavailable(error: BaseException) -> Unavailable:
    return Unavailable("postgres", f"{error.__class__.__name__}: {error}")


async def ensure_schema(pool: Any, timeout: float) -> None:
    try:
        async with pool.acquire(timeout=timeout) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK_ID)
            await conn.execute(DDL)
    except DB_ERRORS as error:
        raise unavailable(error) from error


class PostgresUnitOfWork(AbstractUnitOfWork):
    def __init__(self, pool: Any, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn: Any = None
        self._tx: Any = None

    async def __aenter__(self) -> PostgresUnitOfWork:
        try:
            self._conn = await self._pool.acquire(timeout=self._timeout)
            self._tx = self._conn.transaction()
            await self._tx.start()
        except DB_ERRORS as error:
            await self._release()
            raise unavailable(error) from error
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.rollback()
        finally:
            await self._release()

    async def _release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._pool.release(conn)

    async def _run(self, statement: str, *args: object) -> list[Any]:
        try:
            return list(await self._conn.fetch(statement, *args, timeout=self._timeout))
        except DB_ERRORS as error:
            raise unavailable(error) from error

    async def remember(self, event_ids: list[str]) -> set[str]:
        return {str(row["event_id"]) for row in await self._run(REMEMBER, event_ids)}

    async def add_players(self, players: set[tuple[datetime, str]]) -> list[datetime]:
        if not players:
            return []
        minutes, ids = zip(*sorted(players), strict=True)
        return [row["minute"] for row in await self._run(ADD_PLAYERS, list(minutes), list(ids))]

    async def add(self, minutes: Mapping[datetime, MinuteTotals]) -> None:
        if not minutes:
            return
        keys = sorted(minutes)  # a fixed order: two writers never deadlock on minute rows
        columns = [[getattr(minutes[k], c) for k in keys] for c in COLUMNS]
        await self._run(UPSERT, keys, *columns)

    async def commit(self) -> None:
        if self._tx is not None:
            tx, self._tx = self._tx, None
            try:
                await tx.commit()
            except DB_ERRORS as error:
                raise unavailable(error) from error

    async def rollback(self) -> None:
        if self._tx is not None:
            tx, self._tx = self._tx, None
            with contextlib.suppress(*DB_ERRORS):  # the connection is reset on release anyway
                await tx.rollback()


async def read_minutes(
    pool: Any, since: datetime, timeout: float
) -> list[tuple[datetime, MinuteTotals]]:
    try:
        async with pool.acquire(timeout=timeout) as conn:  # waiting for it is bounded too
            rows = await conn.fetch(READ, since, timeout=timeout)
    except DB_ERRORS as error:
        raise unavailable(error) from error
    return [(row["minute"], MinuteTotals(**{c: int(row[c]) for c in COLUMNS})) for row in rows]


async def prune(pool: Any, retention_s: float, timeout: float) -> None:
    try:
        async with pool.acquire(timeout=timeout) as conn:
            for statement in PRUNE:
                await conn.execute(statement, timedelta(seconds=retention_s), timeout=timeout)
    except DB_ERRORS as error:
        raise unavailable(error) from error
