"""Cache faults on the platform's Redis: paused, flushed at the peak, killed and restarted.

``cache.pause`` uses ``CLIENT PAUSE <ms> ALL|WRITE`` for the fault's duration. Redis 6.2
(the bundled one) queues even ``CLIENT UNPAUSE`` behind a pause of ``ALL``, so such a
pause cannot be lifted early: it is always given its length up front and ends on its own
(a revert before then reports when). A ``WRITE`` pause is lifted at once.
"""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING, Literal

import redis

from spikekit.chaos.base import Fault, NothingToRevert, RevertRecord, register
from spikekit.chaos.stack_ops import (
    DelayedStart,
    ProcessesDown,
    find_backing,
    send_signal,
    wait_gone,
)
from spikekit.scenarios.faults import CacheFlush, CachePause, CacheRestart

if TYPE_CHECKING:
    from spikekit.chaos.context import ChaosContext

__all__ = ["RedisPaused"]

#: A pause without a duration (until reverted) is renewed in slices this long.
MAX_PAUSE_S = 3600.0
_BATCH = 500


def _client(url: str, timeout: float = 5.0) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


class RedisPaused(RevertRecord):
    kind: Literal["redis.paused"] = "redis.paused"
    url: str
    mode: Literal["all", "write"]
    until_ts: float  # Unix time when the pause ends on its own

    def undo(self, ctx: ChaosContext) -> str:
        ctx.guard.check_url(self.url, "cache")
        remaining = self.until_ts - time.time()
        if remaining <= 0:
            return "pause already over"
        try:
            with _client(self.url, timeout=0.5) as client:
                client.execute_command("CLIENT UNPAUSE")
        except redis.TimeoutError:
            return f"pause ends on its own in {remaining:.1f} s (Redis queues CLIENT UNPAUSE)"
        return "unpaused"


@register("cache.pause")
class PauseFault(Fault[CachePause]):
    """``CLIENT PAUSE`` for the fault's duration (an hour when it has none)."""

    def _inject(self) -> RevertRecord:
        url = self.ctx.redis_address()
        seconds = self.duration_s if self.duration_s is not None else MAX_PAUSE_S
        millis = max(1, round(seconds * 1000))
        with _client(url) as client:
            client.execute_command("CLIENT PAUSE", millis, self.spec.mode.upper())
        return RedisPaused(url=url, mode=self.spec.mode, until_ts=time.time() + seconds)


@register("cache.flush")
class FlushFault(Fault[CacheFlush]):
    """Delete the matching keys at once (a cold cache); streams are kept unless asked."""

    deleted = 0

    def _inject(self) -> RevertRecord:
        with _client(self.ctx.redis_address(), timeout=30) as client:
            if self.spec.pattern == "*" and not self.spec.keep_streams:
                self.deleted = int(client.dbsize())
                client.flushall()
            else:
                self.deleted = self._delete_matching(client)
        return NothingToRevert(reason=f"flushed {self.deleted} key(s); the cache refills itself")

    def _delete_matching(self, client: redis.Redis) -> int:
        deleted = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=self.spec.pattern, count=_BATCH):
            batch.append(key)
            if len(batch) >= _BATCH:
                deleted += self._delete(client, batch)
                batch = []
        return deleted + (self._delete(client, batch) if batch else 0)

    def _delete(self, client: redis.Redis, keys: list[bytes]) -> int:
        if self.spec.keep_streams:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.type(key)
            kinds = pipe.execute()
            keys = [
                k for k, kind in zip(keys, kinds, strict=True) if kind not in (b"stream", "stream")
            ]
        return int(client.unlink(*keys)) if keys else 0


@register("cache.restart")
class RestartFault(Fault[CacheRestart]):
    """Redis SIGKILLed, started again by the supervisor after ``downtime``."""

    _restart: DelayedStart | None = None

    def check(self) -> None:
        find_backing(self.ctx.stack(), "redis")

    def _inject(self) -> RevertRecord:
        assert self.ctx.state_dir is not None
        server = find_backing(self.ctx.stack(), "redis")
        if self.spec.keep_data:
            with _client(self.ctx.redis_address(), timeout=30) as client:
                client.save()
        send_signal(server, signal.SIGKILL)
        if not wait_gone([server], timeout=10):
            raise self.error(f"redis (PID {server.pid}) did not die")
        record = ProcessesDown(
            state_dir=str(self.ctx.state_dir), names=[server.name], keep_data=self.spec.keep_data
        )
        self._restart = DelayedStart(record, self.spec.downtime, self.ctx)
        return record

    def _release(self) -> None:
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
