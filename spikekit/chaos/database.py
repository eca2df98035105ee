"""Database faults on the platform's PostgreSQL: locks, killed sessions, crashes, a squeeze.

- ``database.lock``: one session holds ``LOCK TABLE <table> IN <mode> MODE`` in an open
  transaction for the fault's duration; writers (and readers, for access exclusive) wait.
  A table named without a schema is looked up in :attr:`ChaosContext.db_schema`
  (``wallet``) first, then on the search path.
- ``database.terminate_backends``: ``pg_terminate_backend`` on a share of the client
  sessions (optionally only those whose ``application_name`` starts with the service's
  name), once or every ``every`` seconds.
- ``database.restart`` / ``database.stop``: the postmaster is signalled by its recorded PID
  (smart = SIGTERM, fast = SIGINT, immediate = SIGQUIT: a crash, recovery on start) and
  the supervisor starts it again after ``downtime`` (restart) or on revert (stop).
- ``database.connection_squeeze``: ``max_connections`` only changes on restart, so the
  squeeze opens idle sessions until only ``leave_free`` slots remain.

Sessions spikekit opens are named ``spikekit-chaos:<fault id>`` (``application_name``);
their revert record terminates them, so even after a crash nothing is left holding on.
"""

from __future__ import annotations

import asyncio
import math
import random
import signal
import threading
from typing import TYPE_CHECKING, Literal

import asyncpg

from spikekit.chaos.base import Fault, NothingToRevert, RevertRecord, register
from spikekit.chaos.stack_ops import (
    DelayedStart,
    ProcessesDown,
    find_backing,
    send_signal,
    wait_gone,
)
from spikekit.scenarios.faults import (
    DatabaseConnectionSqueeze,
    DatabaseLock,
    DatabaseRestart,
    DatabaseStop,
    DatabaseTerminateBackends,
    ShutdownMode,
)

if TYPE_CHECKING:
    from spikekit.chaos.context import ChaosContext

__all__ = ["PostgresSessions", "terminate_sessions"]

APP_PREFIX = "spikekit-chaos"
CONNECT_TIMEOUT_S = 10.0
_SHUTDOWN_SIGNALS = {
    ShutdownMode.SMART: signal.SIGTERM,
    ShutdownMode.FAST: signal.SIGINT,
    ShutdownMode.IMMEDIATE: signal.SIGQUIT,
}
_CLIENTS = """
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend'
      AND pid <> pg_backend_pid() AND application_name NOT LIKE 'spikekit-chaos%'
      AND ($1::text IS NULL OR application_name LIKE $1::text || '%')
"""


async def _terminate(dsn: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    try:
        pids = [row["pid"] for row in await conn.fetch(sql, *args)]
        for pid in pids:
            await conn.execute("SELECT pg_terminate_backend($1)", pid)
        return len(pids)
    finally:
        await conn.close()


def terminate_sessions(dsn: str, application_name: str) -> int:
    """Terminate every session called ``application_name``; returns how many there were."""
    sql = "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
    return asyncio.run(_terminate(dsn, sql, application_name))


class PostgresSessions(RevertRecord):
    """Sessions spikekit holds open (a lock, a squeeze): the revert terminates them."""

    kind: Literal["postgres.sessions"] = "postgres.sessions"
    dsn: str
    application_name: str

    def undo(self, ctx: ChaosContext) -> str:
        ctx.guard.check_url(self.dsn, "database")
        count = terminate_sessions(self.dsn, self.application_name)
        return f"terminated {count} held session(s)" if count else "no session held"


class _Sessions:
    """``count`` idle sessions on a thread of their own; the first runs ``setup`` SQL."""

    def __init__(self, dsn: str, name: str, count: int, setup: str | None = None) -> None:
        self.dsn, self.name, self.count, self.setup = dsn, name, count, setup
        self.opened = 0
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"{self.name}: sessions not ready within {timeout:g} s")
        if self.error is not None:
            self.stop()
            raise self.error

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(15)

    def _run(self) -> None:
        asyncio.run(self._hold())

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.dsn,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"application_name": self.name},
        )

    async def _hold(self) -> None:
        conns: list[asyncpg.Connection] = []
        try:
            while len(conns) < self.count and not self._stop.is_set():
                batch = min(16, self.count - len(conns))
                conns += await asyncio.gather(*(self._connect() for _ in range(batch)))
            self.opened = len(conns)
            if self.setup and conns:
                await conns[0].execute(self.setup)
        except BaseException as error:  # reported by start()
            self.error = error
        finally:
            self._ready.set()
        try:
            while not self._stop.is_set() and self.error is None:
                await asyncio.sleep(0.05)
        finally:
            for conn in conns:
                conn.terminate()


class _HeldSessions(Fault[DatabaseLock | DatabaseConnectionSqueeze]):
    _sessions: _Sessions | None = None

    @property
    def session_name(self) -> str:
        return f"{APP_PREFIX}:{self.fault_id}"

    def _hold(self, count: int, setup: str | None = None) -> RevertRecord:
        dsn = self.ctx.postgres_dsn()
        self._sessions = _Sessions(dsn, self.session_name, count, setup)
        try:
            self._sessions.start()
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            raise self.error(f"could not hold {count} session(s): {error}") from error
        return PostgresSessions(dsn=dsn, application_name=self.session_name)

    def _release(self) -> None:
        if self._sessions is not None:
            self._sessions.stop()
            self._sessions = None


@register("database.lock")
class LockFault(_HeldSessions):
    """A table lock held in an open transaction for the fault's duration."""

    spec: DatabaseLock

    def check(self) -> None:
        self._table()

    def _table(self) -> str:
        return asyncio.run(self._resolve(self.ctx.postgres_dsn()))

    async def _resolve(self, dsn: str) -> str:
        conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
        try:
            for name in (f"{self.ctx.db_schema}.{self.spec.table}", self.spec.table):
                found = await conn.fetchval("SELECT to_regclass($1)::text", name)
                if found:
                    return str(found)
        finally:
            await conn.close()
        raise self.config_error(
            f"no table {self.spec.table!r} in schema {self.ctx.db_schema!r} or on the search path"
        )

    def _inject(self) -> RevertRecord:
        mode = self.spec.lock_mode.value.replace("_", " ").upper()
        setup = f"BEGIN; SET LOCAL lock_timeout = '10s'; LOCK TABLE {self._table()} IN {mode} MODE"
        return self._hold(1, setup)


@register("database.connection_squeeze")
class SqueezeFault(_HeldSessions):
    """Idle sessions up to ``max_connections`` minus ``leave_free``."""

    spec: DatabaseConnectionSqueeze
    held = 0

    async def _room(self, dsn: str) -> int:
        conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
        try:
            limit = int(await conn.fetchval("SELECT current_setting('max_connections')::int"))
            used = int(
                await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                )
            )
        finally:
            await conn.close()
        return max(0, limit - (used - 1) - self.spec.leave_free)  # our query session closes

    def _inject(self) -> RevertRecord:
        self.held = asyncio.run(self._room(self.ctx.postgres_dsn()))
        return self._hold(self.held)


@register("database.terminate_backends")
class TerminateBackendsFault(Fault[DatabaseTerminateBackends]):
    """``pg_terminate_backend`` on a share of the client sessions, once or repeatedly."""

    _stop: threading.Event | None = None
    terminated = 0

    def _terminate_once(self, dsn: str) -> None:
        service = self.spec.service.value if self.spec.service else None
        fraction = self.spec.fraction

        async def run() -> int:
            conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
            try:
                pids = [row["pid"] for row in await conn.fetch(_CLIENTS, service)]
                chosen = random.sample(pids, math.ceil(len(pids) * fraction))
                for pid in chosen:
                    await conn.execute("SELECT pg_terminate_backend($1)", pid)
                return len(chosen)
            finally:
                await conn.close()

        self.terminated += asyncio.run(run())

    def _inject(self) -> RevertRecord:
        dsn = self.ctx.postgres_dsn()
        self._terminate_once(dsn)
        if self.spec.every:
            stop = self._stop = threading.Event()
            every = self.spec.every

            def repeat() -> None:
                while not stop.wait(every):
                    try:
                        self._terminate_once(dsn)
                    except (OSError, asyncpg.PostgresError):
                        continue

            threading.Thread(target=repeat, name=f"terminate-{self.fault_id}", daemon=True).start()
        return NothingToRevert(reason="terminated sessions stay gone; clients reconnect")

    def _release(self) -> None:
        if self._stop is not None:
            self._stop.set()


@register("database.restart", "database.stop")
class ShutdownFault(Fault[DatabaseRestart | DatabaseStop]):
    """The postmaster shut down by signal; started again after ``downtime`` or on revert."""

    _restart: DelayedStart | None = None

    def check(self) -> None:
        find_backing(self.ctx.stack(), "postgres")

    def _inject(self) -> RevertRecord:
        assert self.ctx.state_dir is not None
        postmaster = find_backing(self.ctx.stack(), "postgres")
        send_signal(postmaster, _SHUTDOWN_SIGNALS[self.spec.mode])
        if not wait_gone([postmaster], timeout=30):
            raise self.error(f"postgres (PID {postmaster.pid}) did not shut down in 30 s")
        record = ProcessesDown(state_dir=str(self.ctx.state_dir), names=[postmaster.name])
        if isinstance(self.spec, DatabaseRestart):
            self._restart = DelayedStart(record, self.spec.downtime, self.ctx)
        return record

    def _release(self) -> None:
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
