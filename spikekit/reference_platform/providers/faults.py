"""Faults set through the control API (docs/provider-control-api.md), and admission.

A fault is one of five kinds (``errors``, ``rate_limit``, ``latency``, ``hang``,
``capacity``), set under a ``fault_id`` for a provider id, ending when deleted or when
``expires_in_s`` has passed. Several combine. A studio process stores faults for any
known studio (spikekit sends each fault to every simulator process) and applies those
of its own studio.

:class:`Gate` decides, for each launch or round, in this order: injected errors, rate
limits (the faults', then the studio's own), capacity (the faults' ``max_concurrent`` →
503 at once, the studio's own cap → 429), then, holding its slot, hangs and latency.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from spikekit.errors import SpikekitError
from spikekit.reference_platform.common.clock import MONOTONIC, Clock, wait_event
from spikekit.reference_platform.providers.domain import TokenBucket

HANG_MAX_S = 600.0  # a hung request is held at most this long when its fault never ends
LOST = 504  # the answer to a request a ``lost`` hang held for HANG_MAX_S (never played)


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expires_in_s: float | None = Field(default=None, gt=0, description="null: until deleted")


class ErrorsFault(_Fault):
    type: Literal["errors"]
    rate: float = Field(default=1.0, ge=0, le=1)
    status_codes: list[int] = Field(default_factory=lambda: [500, 502, 503], min_length=1)

    @field_validator("status_codes")
    @classmethod
    def _statuses(cls, codes: list[int]) -> list[int]:
        bad = [c for c in codes if c != 429 and not 500 <= c <= 599]
        if bad:
            raise ValueError(f"status codes must be 429 or 5xx, got {bad}")
        return codes


class RateLimitFault(_Fault):
    type: Literal["rate_limit"]
    limit_rps: float = Field(gt=0)
    retry_after_s: int = Field(default=1, ge=0, le=3600)


class LatencyFault(_Fault):
    type: Literal["latency"]
    latency_ms: float = Field(ge=0, le=600_000)
    jitter_ms: float = Field(default=0, ge=0, le=600_000)


class HangFault(_Fault):
    type: Literal["hang"]
    rate: float = Field(default=1.0, ge=0, le=1)
    lost: bool = Field(
        default=False,
        description="the requests it catches stay unanswered after it ends (the studio "
        "lost them); false: they go on when it ends",
    )


class CapacityFault(_Fault):
    type: Literal["capacity"]
    max_concurrent: int = Field(ge=0)


Fault = Annotated[
    ErrorsFault | RateLimitFault | LatencyFault | HangFault | CapacityFault,
    Field(discriminator="type"),
]


@dataclass
class ActiveFault:
    provider: str
    fault_id: str
    fault: ErrorsFault | RateLimitFault | LatencyFault | HangFault | CapacityFault
    expires_at: float | None  # unix seconds
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    bucket: TokenBucket | None = None

    def listing(self) -> dict[str, object]:
        body = self.fault.model_dump()
        return {
            "provider": self.provider,
            "fault_id": self.fault_id,
            **body,
            "expires_at": self.expires_at,
        }


class FaultTable:
    """The faults in force on this process, by (provider, fault_id)."""

    def __init__(self) -> None:
        self._faults: dict[tuple[str, str], ActiveFault] = {}

    def put(self, provider: str, fault_id: str, fault: ActiveFault) -> None:
        previous = self._faults.pop((provider, fault_id), None)
        if previous is not None:
            previous.ended.set()
        if isinstance(fault.fault, RateLimitFault):
            fault.bucket = TokenBucket(fault.fault.limit_rps)
        self._faults[(provider, fault_id)] = fault

    def delete(self, provider: str, fault_id: str) -> bool:
        """False when it was not set (never, expired, cleared)."""
        self.expire()
        fault = self._faults.pop((provider, fault_id), None)
        if fault is not None:
            fault.ended.set()
        return fault is not None

    def clear(self, provider: str | None = None) -> None:
        for key in [k for k in self._faults if provider is None or k[0] == provider]:
            self._faults.pop(key).ended.set()

    def expire(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for key, fault in list(self._faults.items()):
            if fault.expires_at is not None and fault.expires_at <= now:
                self._faults.pop(key).ended.set()

    def active(self, provider: str | None = None) -> list[ActiveFault]:
        self.expire()
        return [f for f in self._faults.values() if provider is None or f.provider == provider]


class Rejected(SpikekitError):
    """A request refused at the door: ``status`` with ``Retry-After`` when given."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None) -> None:
        self.status = status
        self.code = code
        self.retry_after = retry_after
        super().__init__(message)


class Gate:
    """Admission of launches and rounds of ``studio``: faults, rate limits, capacity."""

    def __init__(
        self,
        studio: str,
        capacity: int,
        rate_limit_rps: float | None,
        faults: FaultTable | None = None,
        rng: random.Random | None = None,
        hang_max_s: float = HANG_MAX_S,
        clock: Clock = MONOTONIC,
    ) -> None:
        self.studio = studio
        self.clock = clock  # rate limits, latency and hangs wait on it
        self.hang_max_s = hang_max_s
        self.capacity = capacity
        self.own_bucket = TokenBucket(rate_limit_rps) if rate_limit_rps else None
        self.faults = faults or FaultTable()
        self.rng = rng or random.Random()
        self.in_flight = 0

    @asynccontextmanager
    async def admit(self, counts_capacity: bool) -> AsyncIterator[None]:
        """Raise :class:`Rejected`, or hold a slot while the request runs."""
        faults = self.faults.active(self.studio)
        self._check(faults, counts_capacity)
        self.in_flight += counts_capacity
        try:
            await self._delay(faults)
            yield
        finally:
            self.in_flight -= counts_capacity

    def _check(self, faults: list[ActiveFault], counts_capacity: bool) -> None:
        now = self.clock.now()
        for active in faults:
            fault = active.fault
            if isinstance(fault, ErrorsFault) and self.rng.random() < fault.rate:
                status = self.rng.choice(fault.status_codes)
                retry = 1 if status in (429, 503) else None
                raise Rejected(status, "INJECTED_FAULT", f"fault {active.fault_id}", retry)
            bucket = active.bucket
            if isinstance(fault, RateLimitFault) and bucket is not None and not bucket.take(now):
                message = f"rate limit ({active.fault_id})"
                raise Rejected(429, "RATE_LIMITED", message, fault.retry_after_s)
        if self.own_bucket is not None and not self.own_bucket.take(now):
            raise Rejected(429, "RATE_LIMITED", "the studio's rate limit", 1)
        if not counts_capacity:
            return
        caps = [f.fault.max_concurrent for f in faults if isinstance(f.fault, CapacityFault)]
        if caps and self.in_flight >= min(caps):
            raise Rejected(503, "OVER_CAPACITY", "capacity (fault)", 1)
        if self.in_flight >= self.capacity:
            raise Rejected(429, "OVER_CAPACITY", "the studio is at capacity", 1)

    async def _delay(self, faults: list[ActiveFault]) -> None:
        latency = 0.0
        for active in faults:
            fault = active.fault
            if isinstance(fault, HangFault) and self.rng.random() < fault.rate:
                await self._hang(active)
            elif isinstance(fault, LatencyFault):
                jitter = self.rng.uniform(-fault.jitter_ms, fault.jitter_ms)
                latency += fault.latency_ms + jitter
        if latency > 0:
            await self.clock.sleep(latency / 1000)

    async def _hang(self, active: ActiveFault) -> None:
        """Hold until the fault ends (deleted, cleared or expired).

        A ``lost`` hang holds past its end — the request is never played, as when a studio
        node dies behind a load balancer that keeps the connection open — and after
        ``hang_max_s`` answers 504 so that nothing is held for ever.
        """
        if isinstance(active.fault, HangFault) and active.fault.lost:
            await self.clock.sleep(self.hang_max_s)
            raise Rejected(LOST, "LOST", f"request lost ({active.fault_id})", None)
        limit = self.hang_max_s
        if active.expires_at is not None:
            limit = min(limit, max(0.0, active.expires_at - time.time()))
        await wait_event(active.ended, limit, self.clock)
