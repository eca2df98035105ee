"""Redis Streams calls the services' stream adapters share (redis-py, Redis 6.2)."""

from __future__ import annotations

import redis.asyncio as aioredis


async def create_group(redis: aioredis.Redis, stream: str, group: str) -> None:
    """Create ``group`` reading from the stream's start (entries added before it count),
    creating the stream if needed; a group that already exists is left as it is."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except aioredis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
