"""Whether the bundled platform has gone quiet after the load, so the audit can start.

After the last player stops, work the players were told about may still be under way: a
deposit accepted (202) waits in the payments stream until a worker credits it, and a
wallet event waits in the outbox. The audit must not read the ledger before they land,
so the run drains; it used to wait a fixed ``drain_s``. :class:`QuietWatch` ends the
drain early once the payments stream and the outbox are empty and the ledger has not
grown for :data:`QUIET_S` seconds in a row; a platform that never gets there (a killed
worker's entries stay in the stream) still drains for the whole ``drain_s``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import redis

from spikekit.reference_platform.payments.settings import PaymentsSettings

#: Seconds the platform must stay quiet before the drain ends early.
QUIET_S = 1.0

_ACTIVITY = """
SELECT (SELECT coalesce(max(id), 0) FROM wallet.ledger_entries) AS ledger,
       (SELECT count(*) FROM (SELECT 1 FROM wallet.outbox LIMIT 1000) AS o) AS outbox
"""


@dataclass(frozen=True)
class Activity:
    ledger_head: int  # the last ledger entry's id
    outbox: int  # wallet events not yet published
    stream: int  # payment entries not yet final

    @property
    def idle(self) -> bool:
        return self.outbox == 0 and self.stream == 0


async def _ledger(dsn: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        row = await conn.fetchrow(_ACTIVITY, timeout=5)
        assert row is not None
        return int(row["ledger"]), int(row["outbox"])
    finally:
        await conn.close()


def activity(dsn: str, redis_url: str, stream: str | None = None) -> Activity | None:
    """The platform's activity now (None: it could not be read, so it is not known quiet)."""
    name = stream or PaymentsSettings().payments_stream
    try:
        ledger, outbox = asyncio.run(_ledger(dsn))
        client = redis.Redis.from_url(redis_url, socket_timeout=5)
        try:
            length = int(client.xlen(name))
        finally:
            client.close()
    except (TimeoutError, OSError, asyncpg.PostgresError, redis.RedisError):
        return None
    return Activity(ledger, outbox, length)


class QuietWatch:
    """Fed one :class:`Activity` at a time; says when the platform has been quiet long enough."""

    def __init__(self, quiet_s: float = QUIET_S, clock: Callable[[], float] = time.monotonic):
        self.quiet_s = quiet_s
        self._clock = clock
        self._last: Activity | None = None
        self._since = 0.0

    def quiet(self, now: Activity | None) -> bool:
        """Whether ``now`` ends ``quiet_s`` seconds of the same idle activity."""
        at = self._clock()
        if now is None or not now.idle:
            self._last = None
            return False
        if now != self._last:
            self._last, self._since = now, at
            return False
        return at - self._since >= self.quiet_s
