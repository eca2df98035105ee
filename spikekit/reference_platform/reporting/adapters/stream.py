"""Reporting's consumer group on the wallet's ``wallet.events`` stream (Redis 6.2).

Reporting only reads: it acknowledges its entries but never deletes or trims
them (the wallet's relay bounds the stream with ``MAXLEN ~``), so other readers
are unaffected. Redis 6.2 has no consumer-group ``lag`` (XINFO GROUPS gained it
in 7.0); :meth:`RedisEventStream.lag` computes it from the group's
last-delivered id, the XPENDING summary, and a bounded XRANGE after that id.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis

from spikekit.reference_platform.common.redis_streams import create_group
from spikekit.reference_platform.reporting.service_layer.ports import (
    AbstractEventStream,
    Lag,
    StreamEntry,
    Unavailable,
)

T = TypeVar("T")
REDIS_ERRORS: tuple[type[BaseException], ...] = (aioredis.RedisError, OSError, TimeoutError)


async def guarded(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except REDIS_ERRORS as error:
        raise Unavailable("redis", f"{error.__class__.__name__}: {error}") from error


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(entry_id: Any, fields: Any) -> StreamEntry:
    return StreamEntry(_text(entry_id), {_text(k): _text(v) for k, v in (fields or {}).items()})


def id_ms(entry_id: str) -> int:
    """The millisecond timestamp part of a stream id."""
    return int(entry_id.split("-", 1)[0])


class RedisEventStream(AbstractEventStream):
    def __init__(
        self, redis: aioredis.Redis, *, stream: str, group: str, lag_cap: int = 10_000
    ) -> None:
        self._redis = redis
        self._stream = stream
        self._group = group
        self._lag_cap = lag_cap
        self._cursor = "0-0"

    async def ensure_group(self) -> None:
        """Create the group at the stream's start: events published before it count too."""
        await guarded(lambda: create_group(self._redis, self._stream, self._group))

    async def read(self, consumer: str, count: int, block_ms: int) -> list[StreamEntry]:
        return await self._read(consumer, ">", count, block_ms)

    async def own_pending(self, consumer: str, count: int) -> list[StreamEntry]:
        return await self._read(consumer, "0", count, None)

    async def _read(
        self, consumer: str, start: str, count: int, block_ms: int | None
    ) -> list[StreamEntry]:
        reply: Any = await guarded(
            lambda: self._redis.xreadgroup(
                self._group, consumer, {self._stream: start}, count=count, block=block_ms
            )
        )
        return [_entry(i, f) for _stream, items in reply or [] for i, f in items if i is not None]

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[StreamEntry]:
        reply = await guarded(
            lambda: self._redis.xautoclaim(
                self._stream, self._group, consumer, min_idle_ms, self._cursor, count=count
            )
        )
        self._cursor = _text(reply[0])
        return [_entry(i, f) for i, f in reply[1] if i is not None]

    async def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            await guarded(lambda: self._redis.xack(self._stream, self._group, *entry_ids))

    async def lag(self) -> Lag:
        return await guarded(self._lag)

    async def _lag(self) -> Lag:
        groups = await self._redis.xinfo_groups(self._stream)
        group = next((g for g in groups if _text(g["name"]) == self._group), None)
        if group is None:
            return Lag(0, 0, 0.0)
        pending = int(group["pending"])
        last = _text(group["last-delivered-id"])
        after = await self._redis.xrange(self._stream, f"({last}", "+", count=self._lag_cap) or []
        oldest: str | None = None
        if pending:
            summary = await self._redis.xpending(self._stream, self._group)
            oldest = _text(summary["min"]) if summary.get("min") else None
        if oldest is None and after:
            oldest = _text(after[0][0])
        seconds = max(time.time() - id_ms(oldest) / 1000, 0.0) if oldest else 0.0
        return Lag(pending, len(after), seconds)
