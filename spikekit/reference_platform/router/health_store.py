"""Provider health shared across router replicas through one Redis hash.

Each replica keeps its own EWMAs (updated on every call) and, every ``sync_s``,
writes them to ``spikekit:router:health`` (field ``<studio>|<replica>``) and reads the
other replicas' entries back. The view used for routing merges the fresh remote entries
with the replica's own, so a replica reacts at once to what it sees and within a sync
period to what the others see. Redis being slow or gone only stops the sharing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from spikekit.reference_platform.common.tasks import stop_task
from spikekit.reference_platform.router.health import Health, merge

HASH_KEY = "spikekit:router:health"
STALE_S = 30.0


class HealthBoard:
    def __init__(
        self,
        replica_id: str,
        redis: aioredis.Redis | None,
        sync_s: float,
        timeout_s: float = 0.5,
        on_sync: Callable[[], None] | None = None,
    ) -> None:
        self.replica_id = replica_id
        self.redis = redis
        self.sync_s = sync_s
        self.timeout_s = timeout_s
        self.on_sync = on_sync
        self.local: dict[str, Health] = {}
        self.remote: dict[str, list[Health]] = {}
        self.sync_errors = 0
        self._task: asyncio.Task[None] | None = None

    def observe(self, studio: str, latency_ms: float, ok: bool) -> None:
        self.local.setdefault(studio, Health()).observe(latency_ms, ok, time.time())

    def view(self) -> dict[str, Health]:
        studios = set(self.local) | set(self.remote)
        return {
            s: merge([*self.remote.get(s, []), *([self.local[s]] if s in self.local else [])])
            for s in studios
        }

    async def sync(self) -> None:
        """Publish this replica's view and read the others'; errors only end the sharing."""
        if self.redis is None:
            return
        now = time.time()
        fields = {
            f"{studio}|{self.replica_id}": json.dumps(vars(health))
            for studio, health in self.local.items()
        }
        try:
            async with asyncio.timeout(self.timeout_s):
                if fields:
                    await self.redis.hset(HASH_KEY, mapping=fields)  # type: ignore[arg-type]
                entries = await self.redis.hgetall(HASH_KEY)
        except (RedisError, OSError, TimeoutError):
            self.sync_errors += 1
            return
        remote: dict[str, list[Health]] = {}
        for raw_field, raw_value in entries.items():
            studio, _, replica = _text(raw_field).partition("|")
            if replica == self.replica_id:
                continue
            try:
                health = Health(**json.loads(_text(raw_value)))
            except (ValueError, TypeError):
                continue
            if now - health.updated < STALE_S:
                remote.setdefault(studio, []).append(health)
        self.remote = remote

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await self.sync()
            if self.on_sync is not None:
                self.on_sync()
            await asyncio.sleep(self.sync_s)

    async def stop(self) -> None:
        if self._task is not None:
            await stop_task(self._task)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
