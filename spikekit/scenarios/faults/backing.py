"""Faults of the backing services: PostgreSQL, Redis, and the Redis Streams queues."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from spikekit.scenarios.durations import Duration
from spikekit.scenarios.faults.base import FaultBase, FaultFamily, Share
from spikekit.scenarios.target import Service

# --- database: the wallet's PostgreSQL ----------------------------------------------------


class LockMode(StrEnum):
    SHARE = "share"
    ROW_EXCLUSIVE = "row_exclusive"
    EXCLUSIVE = "exclusive"
    ACCESS_EXCLUSIVE = "access_exclusive"


class ShutdownMode(StrEnum):
    SMART = "smart"
    FAST = "fast"
    IMMEDIATE = "immediate"  # a crash: no checkpoint, recovery on start


class _Database(FaultBase):
    family = FaultFamily.DATABASE

    def target_name(self) -> str:
        return "postgres"


class DatabaseLock(_Database):
    type: Literal["database.lock"]
    table: str = Field(
        default="accounts", pattern=r"^[a-z_][a-z0-9_]*$", description="Hot table to lock."
    )
    lock_mode: LockMode = Field(default=LockMode.EXCLUSIVE, description="PostgreSQL lock mode.")


class DatabaseTerminateBackends(_Database):
    type: Literal["database.terminate_backends"]
    fraction: Share = Field(
        default=1.0, description="Share of client connections terminated, 0..1."
    )
    service: Service | None = Field(default=None, description="Only this service's connections.")
    every: Annotated[
        Duration | None, Field(gt=0, description="Repeat this often while on (none = once).")
    ] = None


class DatabaseRestart(_Database):
    type: Literal["database.restart"]
    mode: ShutdownMode = Field(default=ShutdownMode.FAST, description="How it is shut down.")
    downtime: Annotated[Duration, Field(ge=0, description="Time down before the start.")] = 0.0


class DatabaseStop(_Database):
    """Down for the whole fault (a crash without restart); the revert starts it again."""

    type: Literal["database.stop"]
    mode: ShutdownMode = Field(default=ShutdownMode.IMMEDIATE, description="How it goes down.")


class DatabaseConnectionSqueeze(_Database):
    type: Literal["database.connection_squeeze"]
    leave_free: int = Field(
        default=2, ge=0, description="Connections left for the platform; spikekit holds the rest."
    )


# --- cache: Redis ---------------------------------------------------------------------------


class _Cache(FaultBase):
    family = FaultFamily.CACHE

    def target_name(self) -> str:
        return "redis"


class CachePause(_Cache):
    type: Literal["cache.pause"]
    mode: Literal["all", "write"] = Field(default="all", description="CLIENT PAUSE mode.")


class CacheFlush(_Cache):
    type: Literal["cache.flush"]
    pattern: str = Field(default="*", min_length=1, description="Keys to delete (glob).")
    keep_streams: bool = Field(default=True, description="Leave queue streams alone.")


class CacheRestart(_Cache):
    type: Literal["cache.restart"]
    downtime: Annotated[Duration, Field(ge=0, description="Time down before the start.")] = 0.0
    keep_data: bool = Field(default=False, description="Restart from a snapshot (else empty).")


# --- queue: Redis Streams and their consumers ----------------------------------------------


class Consumer(StrEnum):
    """Services whose workers consume a stream."""

    PAYMENTS = "payments"
    REPORTING = "reporting"


class _Queue(FaultBase):
    family = FaultFamily.QUEUE


class _ConsumerFault(_Queue):
    target_field = "consumer"
    consumer: Consumer = Field(description="Service whose stream consumers are hit.")

    def target_name(self) -> str:
        return f"{self.consumer.value}-consumers"


class QueueFlood(_Queue):
    type: Literal["queue.flood"]
    target_field = "stream"
    stream: str = Field(
        default="payments.requests", pattern=r"^\S+$", description="Stream to flood."
    )
    messages: int = Field(ge=1, description="Synthetic messages to add.")
    rate_per_s: float | None = Field(
        default=None, gt=0, description="Messages per second (none = as fast as possible)."
    )

    def target_name(self) -> str:
        return f"stream:{self.stream}"


class QueueConsumerStall(_ConsumerFault):
    """The consumers are SIGSTOPped while the fault is on, SIGCONTed on revert."""

    type: Literal["queue.consumer_stall"]


class QueueConsumerKill(_ConsumerFault):
    """The consumers are SIGKILLed; they are started again after ``restart_after``."""

    type: Literal["queue.consumer_kill"]
    restart_after: Annotated[
        Duration | None, Field(ge=0, description="Restart after (none = when the fault ends).")
    ] = None
