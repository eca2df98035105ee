"""The payment stream's consumer group on Redis 6.2: read, reclaim, acknowledge, measure.

Processed entries are acknowledged *and deleted* in one MULTI, so ``XLEN`` is
the backlog (queued plus in flight) — the figure the API's bound and the depth
gauge use. Redis 6.2 has no consumer-group ``lag`` in XINFO GROUPS (that came
with 7.0): the gauges are XLEN (depth) and the XPENDING summary (in flight).
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from spikekit.reference_platform.common.redis_streams import create_group
from spikekit.reference_platform.payments.adapters.redis_store import guarded
from spikekit.reference_platform.payments.service_layer.ports import AbstractQueue, Entry


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(entry_id: Any, fields: Any) -> Entry:
    """One (id, fields) pair; fields are None for an entry deleted while pending."""
    payment_id = None
    if fields:
        raw = fields.get(b"payment_id", fields.get("payment_id"))
        payment_id = _text(raw) if raw is not None else None
    return Entry(_text(entry_id), payment_id)


class RedisQueue(AbstractQueue):
    def __init__(self, redis: aioredis.Redis, *, stream: str, group: str) -> None:
        self._redis = redis
        self._stream = stream
        self._group = group
        self._cursor = "0-0"  # where the next XAUTOCLAIM scan starts

    async def ensure_group(self) -> None:
        """Create the group reading from the stream's start (entries queued before it count)."""
        await guarded(lambda: create_group(self._redis, self._stream, self._group))

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Entry]:
        reply = await guarded(
            lambda: self._redis.xreadgroup(
                self._group, consumer, {self._stream: ">"}, count=count, block=block_ms
            )
        )
        return self._entries(reply)

    async def own_pending(self, consumer: str, count: int) -> list[Entry]:
        reply = await guarded(
            lambda: self._redis.xreadgroup(self._group, consumer, {self._stream: "0"}, count=count)
        )
        return self._entries(reply)

    def _entries(self, reply: Any) -> list[Entry]:
        entries: list[Entry] = []
        for _stream, items in reply or []:
            entries.extend(_entry(entry_id, fields) for entry_id, fields in items)
        return entries

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        """XAUTOCLAIM from a cursor that walks the pending list and wraps around."""
        reply = await guarded(
            lambda: self._redis.xautoclaim(
                self._stream, self._group, consumer, min_idle_ms, self._cursor, count=count
            )
        )
        next_start, items = reply[0], reply[1]
        self._cursor = _text(next_start)
        # an entry deleted while pending comes back as nil (id unknown): nothing to redo
        return [_entry(entry_id, fields) for entry_id, fields in items if entry_id is not None]

    async def ack(self, entry_ids: list[str]) -> None:
        async def ack_and_delete() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(self._stream, self._group, *entry_ids)
                pipe.xdel(self._stream, *entry_ids)
                await pipe.execute()

        await guarded(ack_and_delete)

    async def depth(self) -> int:
        return int(await guarded(lambda: self._redis.xlen(self._stream)))

    async def pending(self) -> int:
        async def summary() -> int:
            try:
                reply = await self._redis.xpending(self._stream, self._group)
            except aioredis.ResponseError:  # no group yet (NOGROUP)
                return 0
            return int(reply["pending"])

        return await guarded(summary)
