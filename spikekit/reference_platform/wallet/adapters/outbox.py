"""The outbox relay: wallet events from the ``wallet.outbox`` table to a Redis Stream.

Events are written in the same transaction as the money movement, so none is
lost; the relay publishes them in order with ``XADD ... MAXLEN ~`` and deletes
them once Redis has them (at least once: an event can be published twice after
a crash between the two, consumers dedupe on ``event_id``). Several replicas
relay side by side without double work thanks to ``FOR UPDATE SKIP LOCKED``.
A slow or dead Redis never slows the money path: the backlog grows instead.

A commit wakes the relay, which then lingers ``linger_s`` so that the commits of that
moment leave together: one batch costs three round trips to PostgreSQL (BEGIN, one
``DELETE ... RETURNING`` of the claimed rows, COMMIT) and one to Redis, however many
events it holds. Without a wake it polls every ``interval_s`` (events of a crashed
relay, a commit whose wake was missed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from spikekit.reference_platform.common.tasks import stop_task
from spikekit.reference_platform.wallet.adapters.database import DB_ERRORS, Database

log = logging.getLogger(__name__)
RELAY_ERRORS: tuple[type[BaseException], ...] = (*DB_ERRORS, aioredis.RedisError)

# Claim and delete in one statement; the rows come back only if the transaction commits,
# which it does once Redis has them (RETURNING has no order: sorted by id before publishing).
CLAIM = """
DELETE FROM wallet.outbox WHERE id IN (
    SELECT id FROM wallet.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
) RETURNING id, payload
"""
BACKLOG = "SELECT count(*) FROM (SELECT 1 FROM wallet.outbox LIMIT 1000000) AS backlog"


@dataclass(frozen=True)
class RelayConfig:
    stream: str = "wallet.events"
    maxlen: int = 1_000_000
    batch: int = 500
    interval_s: float = 0.5  # poll without a wake
    linger_s: float = 0.1  # after a wake, let more commits join the batch
    timeout_s: float = 2.0


def stream_fields(payload: str) -> dict[str, str]:
    """A stored event as flat stream fields (every value a string)."""
    return {key: str(value) for key, value in json.loads(payload).items()}


# One round trip and one reply for a whole batch: redis-py packing an XADD of ten
# fields and parsing its reply per event cost more CPU than the rest of the relay.
# ARGV[1] is MAXLEN, then one event per argument, each token followed by "\n".
XADD_ALL = r"""
for i = 2, #ARGV do
    local fields = {}
    for token in string.gmatch(ARGV[i], "([^\n]*)\n") do fields[#fields + 1] = token end
    redis.call("XADD", KEYS[1], "MAXLEN", "~", ARGV[1], "*", unpack(fields))
end
return #ARGV - 1
"""


def flat_fields(payload: str) -> str | None:
    """An event as ``field\nvalue\n...``; None when a value holds a newline (never for
    the wallet's ids, numbers and names, but then the event goes by plain XADD)."""
    tokens = [token for pair in stream_fields(payload).items() for token in pair]
    if any("\n" in token for token in tokens):
        return None
    return "".join(f"{token}\n" for token in tokens)


def _ignore(_: int) -> None:
    pass


@dataclass(frozen=True)
class RelayHooks:
    """Where the relay reports (the wallet's metrics)."""

    published: Callable[[int], None] = _ignore
    backlog: Callable[[int], None] = _ignore
    error: Callable[[], None] = lambda: None


class OutboxRelay:
    """Runs as a background task of the wallet app: ``start()`` / ``stop()``."""

    def __init__(
        self,
        database: Database,
        redis: aioredis.Redis,
        config: RelayConfig,
        hooks: RelayHooks | None = None,
    ) -> None:
        self._database = database
        self._redis = redis
        self._config = config
        self._hooks = hooks or RelayHooks()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._backlog_at = 0.0
        self._xadd_all = redis.register_script(XADD_ALL)

    def notify(self) -> None:
        """Something was committed: publish without waiting for the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wallet-outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def relay_once(self) -> int:
        """Publish one batch; the number of events published."""
        conn = await self._database.acquire()
        try:
            async with conn.transaction():
                rows = sorted(await conn.fetch(CLAIM, self._config.batch), key=_row_id)
                if rows:
                    await self._publish([str(row["payload"]) for row in rows])
            await self._measure_backlog(conn, len(rows))
        finally:
            await self._database.release(conn)
        self._hooks.published(len(rows))
        return len(rows)

    async def _publish(self, payloads: list[str]) -> None:
        async with asyncio.timeout(self._config.timeout_s):
            flat = [event for event in map(flat_fields, payloads) if event is not None]
            if len(flat) == len(payloads):
                await self._xadd_all(keys=[self._config.stream], args=[self._config.maxlen, *flat])
                return
            async with self._redis.pipeline(transaction=False) as pipe:
                for payload in payloads:
                    pipe.xadd(
                        self._config.stream,
                        stream_fields(payload),  # type: ignore[arg-type]
                        maxlen=self._config.maxlen,
                        approximate=True,
                    )
                await pipe.execute()

    async def _measure_backlog(self, conn: Any, published: int) -> None:
        now = time.monotonic()
        if published < self._config.batch and now - self._backlog_at < 0.5:
            return
        self._backlog_at = now
        self._hooks.backlog(int(await conn.fetchval(BACKLOG)))

    async def _run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()  # a commit from now on wakes the next batch
            try:
                published = await self.relay_once()
                failures = 0
            except RELAY_ERRORS as error:
                failures += 1
                self._hooks.error()
                log.warning("outbox relay: %r", error)
                await asyncio.sleep(min(0.05 * 2**failures, 1.0))
                continue
            if published < self._config.batch:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._config.interval_s):
                        await self._wake.wait()
                if self._wake.is_set():
                    await asyncio.sleep(self._config.linger_s)  # more commits join the batch


def _row_id(row: Any) -> int:
    return int(row["id"])
