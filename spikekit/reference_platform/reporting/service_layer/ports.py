"""What reporting's handlers need: a unit of work on the aggregates, and the event stream.

Unit tests give the handlers in-memory fakes of both
(``tests/unit/reporting/fakes.py``). Every method that talks to a dependency
raises :class:`Unavailable` when it fails.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from spikekit.reference_platform.reporting.domain import MinuteTotals, ReportingError


class Unavailable(ReportingError):
    """PostgreSQL or Redis failed or timed out; nothing was stored, retry later."""

    def __init__(self, dependency: str, reason: str) -> None:
        self.dependency = dependency
        super().__init__(f"{dependency} unavailable: {reason}")


class AbstractUnitOfWork(abc.ABC):
    """One transaction on the aggregates; nothing is kept unless ``commit()`` is called."""

    async def __aenter__(self) -> AbstractUnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    @abc.abstractmethod
    async def remember(self, event_ids: list[str]) -> set[str]:
        """Record the ids as counted; the ones that were not recorded before."""

    @abc.abstractmethod
    async def add_players(self, players: set[tuple[datetime, str]]) -> list[datetime]:
        """Record (minute, player) pairs; one minute per pair that was new."""

    @abc.abstractmethod
    async def add(self, minutes: Mapping[datetime, MinuteTotals]) -> None:
        """Add the totals to the stored ones (an upsert per minute, in one batch)."""

    @abc.abstractmethod
    async def commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None: ...


@dataclass(frozen=True)
class StreamEntry:
    entry_id: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Lag:
    """How far reporting is behind the wallet's stream."""

    pending: int  # delivered to reporting, not acknowledged
    undelivered: int  # in the stream after the group's last delivered entry (capped)
    seconds: float  # age of the oldest entry not processed yet; 0 when caught up

    @property
    def entries(self) -> int:
        return self.pending + self.undelivered


class AbstractEventStream(abc.ABC):
    """Reporting's consumer group on the wallet's event stream (read-only: it never trims)."""

    @abc.abstractmethod
    async def ensure_group(self) -> None: ...

    @abc.abstractmethod
    async def read(self, consumer: str, count: int, block_ms: int) -> list[StreamEntry]: ...

    @abc.abstractmethod
    async def own_pending(self, consumer: str, count: int) -> list[StreamEntry]: ...

    @abc.abstractmethod
    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[StreamEntry]: ...

    @abc.abstractmethod
    async def ack(self, entry_ids: list[str]) -> None: ...

    @abc.abstractmethod
    async def lag(self) -> Lag: ...


class Telemetry:
    """Where the handlers report; the metrics adapter overrides it."""

    def batch(self, read: int, counted: int, duplicates: int, bad: int, seconds: float) -> None:
        pass

    def unavailable(self, dependency: str) -> None:
        pass

    def reclaimed(self, entries: int) -> None:
        pass

    def lag(self, lag: Lag) -> None:
        pass
