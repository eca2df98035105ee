"""Queue faults on the platform's Redis Streams and the services that consume them.

- ``queue.flood``: ``messages`` synthetic entries ``XADD``-ed to a stream (pipelined, or
  at ``rate_per_s``), each marked ``synthetic=1`` and ``spikekit_fault=<id>`` so that
  consumers and the audit can tell them apart. They stay: consumers must work through them.
- ``queue.consumer_stall``: the consumer processes SIGSTOPped, SIGCONTed on revert.
- ``queue.consumer_kill``: the consumer processes SIGKILLed, started again after
  ``restart_after`` (or when the fault ends).

Consumers are the processes of service ``<consumer>`` in stack.json, and of
``<consumer>-worker`` / ``<consumer>-consumer`` when the platform runs its workers apart.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import redis

from spikekit.chaos.base import Fault, NothingToRevert, RevertRecord, register
from spikekit.chaos.process import kill_processes, stop_processes
from spikekit.chaos.stack_ops import DelayedStart, Target, find_services
from spikekit.scenarios.faults import QueueConsumerKill, QueueConsumerStall, QueueFlood

__all__ = ["ConsumerKillFault", "ConsumerStallFault", "FloodFault", "consumer_names"]

_PIPELINE = 500


def consumer_names(consumer: str, running: set[str]) -> list[str]:
    """The services that consume ``consumer``'s stream: its ``-worker`` / ``-consumer``
    services when the stack has them (the API that only enqueues is left alone), else the
    service itself (reporting consumes in its own process)."""
    workers = [f"{consumer}-worker", f"{consumer}-consumer"]
    return [n for n in workers if n in running] or [consumer]


@register("queue.flood")
class FloodFault(Fault[QueueFlood]):
    """Synthetic messages into a stream, all at once or at a rate (on a thread)."""

    added = 0
    _stop: threading.Event | None = None
    _thread: threading.Thread | None = None

    def check(self) -> None:
        """The stream must exist: XADD to a misspelt name would create one nobody reads."""
        with redis.Redis.from_url(self.ctx.redis_address(), socket_timeout=10) as client:
            if client.type(self.spec.stream) != b"stream":
                raise self.config_error(
                    f"no stream {self.spec.stream!r} in the platform's Redis "
                    "(the payment queue is 'payments.requests', the wallet's events "
                    "'wallet.events')"
                )

    def _inject(self) -> RevertRecord:
        client = redis.Redis.from_url(self.ctx.redis_address(), socket_timeout=10)
        if self.spec.rate_per_s is None:
            with client:
                self._add(client, self.spec.messages)
        else:
            stop = self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._paced, args=(client, stop), name=f"flood-{self.fault_id}", daemon=True
            )
            self._thread.start()
        return NothingToRevert(reason="flooded messages stay for the consumers")

    def _add(self, client: redis.Redis, count: int) -> None:
        fields: dict[bytes | bytearray | memoryview[int] | str | int | float, Any] = {
            "synthetic": "1",
            "spikekit_fault": self.fault_id,
        }
        while count > 0:
            batch = min(count, _PIPELINE)
            pipe = client.pipeline(transaction=False)
            for _ in range(batch):
                pipe.xadd(self.spec.stream, fields)
            pipe.execute()
            self.added += batch
            count -= batch

    def _paced(self, client: redis.Redis, stop: threading.Event) -> None:
        assert self.spec.rate_per_s is not None
        step = max(1, round(self.spec.rate_per_s / 20))  # 20 batches a second
        started = time.monotonic()
        with client:
            while self.added < self.spec.messages and not stop.is_set():
                due = started + (self.added + step) / self.spec.rate_per_s
                if stop.wait(max(0.0, due - time.monotonic())):
                    break
                try:
                    self._add(client, min(step, self.spec.messages - self.added))
                except redis.RedisError:
                    continue

    def _release(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


class _ConsumerFault(Fault[QueueConsumerStall | QueueConsumerKill]):
    def _targets(self) -> list[Target]:
        stack = self.ctx.stack()
        running = {s.service for s in stack.services}
        return find_services(stack, consumer_names(self.spec.consumer.value, running))

    def check(self) -> None:
        self._targets()


@register("queue.consumer_stall")
class ConsumerStallFault(_ConsumerFault):
    """Consumers frozen (SIGSTOP): the stream's depth grows until the revert."""

    def _inject(self) -> RevertRecord:
        return stop_processes(self, self._targets())


@register("queue.consumer_kill")
class ConsumerKillFault(_ConsumerFault):
    """Consumers killed; started again after ``restart_after`` or on revert."""

    spec: QueueConsumerKill
    _restart: DelayedStart | None = None

    def _inject(self) -> RevertRecord:
        record = kill_processes(self, self._targets(), signal.SIGKILL)
        if self.spec.restart_after is not None:
            self._restart = DelayedStart(record, self.spec.restart_after, self.ctx)
        return record

    def _release(self) -> None:
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
