"""Credentials in PostgreSQL: the ``auth`` schema, its creation, and the repository.

One table, ``auth.credentials``: the player id, the (lower-case, unique)
username and the argon2id hash. The schema is created idempotently at startup
under an advisory lock, so that replicas starting together do not race.

asyncpg is untyped: its objects stay inside this module, and its failures
become :class:`~..domain.AuthUnavailable`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from spikekit.reference_platform.auth.domain import AuthUnavailable, Credential, UsernameTaken
from spikekit.reference_platform.auth.service_layer.ports import AbstractCredentials
from spikekit.reference_platform.common.connections import create_pool

SCHEMA_LOCK_ID = 0x5B1CE_0A17  # pg_advisory_xact_lock key of the auth schema
TABLE = "auth.credentials"
COLUMNS = ("player_id", "username", "password_hash")

DDL = """
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.credentials (
    player_id      text PRIMARY KEY,
    username       text NOT NULL,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credentials_username_key UNIQUE (username)
);
"""

DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


async def ensure_schema(conn: Any) -> None:
    """Create the schema if needed; safe when several replicas start at once."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK_ID)
        await conn.execute(DDL)


async def open_pool(dsn: str, *, service: str, size: int, timeout: float) -> Any:
    """A bounded pool with a timeout on every statement, the schema ensured."""
    pool = await create_pool(
        dsn,
        service,
        min_size=min(2, size),
        max_size=size,
        timeout=timeout,
        command_timeout=timeout,
    )
    async with pool.acquire(timeout=timeout) as conn:
        await ensure_schema(conn)
    return pool


@asynccontextmanager
async def _postgres() -> AsyncIterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError:
        raise
    except DB_ERRORS as error:
        raise AuthUnavailable("postgres", error.__class__.__name__) from error


class PostgresCredentials(AbstractCredentials):
    def __init__(self, pool: Any, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def get(self, username: str) -> Credential | None:
        if "\x00" in username:  # PostgreSQL text cannot hold NUL: no stored name has one
            return None
        async with _postgres(), self._pool.acquire(timeout=self._timeout) as conn:
            row = await conn.fetchrow(
                f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE username = $1",
                username,
                timeout=self._timeout,
            )
        if row is None:
            return None
        return Credential(str(row[0]), str(row[1]), str(row[2]))

    async def add(self, credential: Credential) -> None:
        try:
            async with _postgres(), self._pool.acquire(timeout=self._timeout) as conn:
                await conn.execute(
                    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ($1, $2, $3)",
                    credential.player_id,
                    credential.username,
                    credential.password_hash,
                    timeout=self._timeout,
                )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name == "credentials_username_key":
                raise UsernameTaken(credential.username) from error
            raise AuthUnavailable("postgres", "player id collision; retry") from error
