"""The wallet's tables, created idempotently at startup under an advisory lock.

Everything lives in the PostgreSQL schema ``wallet`` so that other services can
share the database:

- ``accounts``: one row per player, the balance in minor units and a ``version``
  that every write touching the player's records increments (optimistic batches
  check it, :mod:`.batch_sql`);
- ``transactions``: every provider / payments transaction and the answer it got,
  ``PRIMARY KEY (provider, tx_id)`` (the idempotency key);
- ``ledger_entries``: every balance movement, signed, with the balance after it;
  the sum per player equals the balance (seeded balances are ``seed`` entries);
- ``outbox``: wallet events waiting for the relay to publish them to Redis.
"""

from __future__ import annotations

from typing import Any

SCHEMA_LOCK_ID = 0x5B1CE_0001  # pg_advisory_xact_lock key: one creator at a time

DDL = """
CREATE SCHEMA IF NOT EXISTS wallet;
CREATE TABLE IF NOT EXISTS wallet.accounts (
    player_id   text PRIMARY KEY,
    balance     bigint NOT NULL,
    currency    text NOT NULL DEFAULT 'EUR',
    created_at  timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL DEFAULT 0
);
DO $$ BEGIN  -- a database created before the column: add it (no table lock otherwise)
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'wallet' AND table_name = 'accounts' AND column_name = 'version'
    ) THEN
        ALTER TABLE wallet.accounts ADD COLUMN version bigint NOT NULL DEFAULT 0;
    END IF;
END $$;
CREATE OR REPLACE FUNCTION wallet.refuse_stale(stale bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF stale <> 0 THEN
        RAISE EXCEPTION 'wallet batch: % accounts changed since they were read', stale
            USING ERRCODE = 'serialization_failure';
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS wallet.transactions (
    provider        text NOT NULL,
    tx_id           text NOT NULL,
    kind            text NOT NULL,
    player_id       text NOT NULL,
    round_id        text,
    amount          bigint NOT NULL,
    status          text NOT NULL,
    code            text NOT NULL,
    balance_after   bigint NOT NULL,
    original_tx_id  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transactions_provider_tx_id_key PRIMARY KEY (provider, tx_id)
);
CREATE INDEX IF NOT EXISTS transactions_round_idx
    ON wallet.transactions (provider, round_id) WHERE round_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS wallet.ledger_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    player_id       text NOT NULL,
    provider        text NOT NULL,
    tx_id           text NOT NULL,
    kind            text NOT NULL,
    round_id        text,
    amount          bigint NOT NULL,
    balance_after   bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS wallet.outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
"""

TABLES = ("wallet.outbox", "wallet.ledger_entries", "wallet.transactions", "wallet.accounts")


async def ensure_schema(conn: Any) -> None:
    """Create the schema if needed; safe when several replicas start at once."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK_ID)
        await conn.execute(DDL)


async def truncate(conn: Any) -> None:
    """Empty every wallet table (tests and re-seeding)."""
    await conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
