"""In-memory fakes of reporting's own interfaces: the aggregates' unit of work and the stream."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from spikekit.reference_platform.reporting.domain import MinuteTotals
from spikekit.reference_platform.reporting.service_layer.ports import (
    AbstractEventStream,
    AbstractUnitOfWork,
    Lag,
    StreamEntry,
    Unavailable,
)


@dataclass
class Tables:
    minutes: dict[datetime, MinuteTotals] = field(default_factory=dict)
    players: set[tuple[datetime, str]] = field(default_factory=set)
    counted: set[str] = field(default_factory=set)
    commits: int = 0
    down: bool = False


class FakeUnitOfWork(AbstractUnitOfWork):
    """Works on a copy of the tables; ``commit()`` puts the copy back."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.work = copy.deepcopy(tables)

    def _check(self) -> None:
        if self.tables.down:
            raise Unavailable("postgres", "down")

    async def remember(self, event_ids: list[str]) -> set[str]:
        self._check()
        fresh = set(event_ids) - self.work.counted
        self.work.counted |= fresh
        return fresh

    async def add_players(self, players: set[tuple[datetime, str]]) -> list[datetime]:
        fresh = players - self.work.players
        self.work.players |= fresh
        return [minute for minute, _ in fresh]

    async def add(self, minutes: Mapping[datetime, MinuteTotals]) -> None:
        for minute, totals in minutes.items():
            self.work.minutes[minute] = self.work.minutes.get(minute, MinuteTotals()) + totals

    async def commit(self) -> None:
        self._check()
        self.tables.minutes = self.work.minutes
        self.tables.players = self.work.players
        self.tables.counted = self.work.counted
        self.tables.commits += 1

    async def rollback(self) -> None:
        pass


class FakeStream(AbstractEventStream):
    """Entries delivered to one consumer at a time, acked or left pending."""

    def __init__(self) -> None:
        self.entries: list[StreamEntry] = []
        self.position = 0
        self.pending: dict[str, StreamEntry] = {}
        self.acked: list[str] = []

    def publish(self, **fields: object) -> None:
        entry_id = f"{len(self.entries) + 1}-0"
        self.entries.append(StreamEntry(entry_id, {k: str(v) for k, v in fields.items()}))

    async def ensure_group(self) -> None:
        pass

    async def read(self, consumer: str, count: int, block_ms: int) -> list[StreamEntry]:
        batch = self.entries[self.position : self.position + count]
        if not batch:  # the real read blocks for block_ms
            await asyncio.sleep(min(block_ms, 10) / 1000)
        self.position += len(batch)
        self.pending.update({e.entry_id: e for e in batch})
        return batch

    async def own_pending(self, consumer: str, count: int) -> list[StreamEntry]:
        return list(self.pending.values())[:count]

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[StreamEntry]:
        return []

    async def ack(self, entry_ids: list[str]) -> None:
        for entry_id in entry_ids:
            self.pending.pop(entry_id, None)
            self.acked.append(entry_id)

    async def lag(self) -> Lag:
        return Lag(len(self.pending), len(self.entries) - self.position, 0.0)
