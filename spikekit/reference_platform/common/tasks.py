"""Background tasks of a service's lifespan (consumers, gauge samplers), stopped one way."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop_task(task: asyncio.Task[Any], grace_s: float = 0.0) -> None:
    """Let ``task`` end on its own for ``grace_s`` (a consumer finishing its batch), then
    cancel it and wait until it is done."""
    if grace_s > 0:
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), grace_s)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
