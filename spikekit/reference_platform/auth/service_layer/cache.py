"""A bounded in-process cache of session validations: LRU by count, TTL by time.

A validation found in Redis is remembered for ``ttl_s`` seconds (never beyond
the session's own expiry), so that a player's burst of requests costs one Redis
round trip. The price: a logout on another replica is seen here up to
``ttl_s`` later. The clock is passed in, so the rules are testable without
sleeping.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Cached:
    player_id: str
    expires_at: float  # the session's end (same clock as ``now``)
    fresh_until: float  # the cache entry's end


class ValidationCache:
    def __init__(self, ttl_s: float, max_size: int) -> None:
        if ttl_s <= 0 or max_size < 1:
            raise ValueError("a cache needs ttl_s > 0 and max_size >= 1")
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._entries: OrderedDict[str, Cached] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str, now: float) -> Cached | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if now >= entry.fresh_until:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return entry

    def put(self, token: str, player_id: str, expires_at: float, now: float) -> None:
        fresh_until = min(now + self.ttl_s, expires_at)
        if fresh_until <= now:
            return
        self._entries[token] = Cached(player_id, expires_at, fresh_until)
        self._entries.move_to_end(token)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def discard(self, token: str) -> None:
        self._entries.pop(token, None)
