"""argon2id hashing and checking in a thread pool, with an admission bound.

argon2 is CPU-bound and argon2-cffi releases the GIL while it computes, so the
work runs in a :class:`~concurrent.futures.ThreadPoolExecutor` and the event
loop keeps serving. ``bound`` caps the checks admitted at once (running plus
waiting for a thread); one more is refused at once with
:class:`~..domain.Overloaded` (the API answers 503 + ``Retry-After``) instead of
queueing without limit. ``bound=None`` (fragile) admits everything: the queue
and the latency grow with the storm.

A slot is held until the thread finishes, even when the caller went away, so
the bound counts work actually in progress.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from spikekit.reference_platform.auth.domain import Overloaded
from spikekit.reference_platform.auth.service_layer.ports import AbstractPasswords

T = TypeVar("T")


def argon2id(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )


class Argon2Passwords(AbstractPasswords):
    def __init__(
        self,
        hasher: PasswordHasher,
        executor: ThreadPoolExecutor,
        *,
        bound: int | None,
        retry_after_s: int = 1,
        observe_verify: Callable[[float], None] = lambda _: None,
    ) -> None:
        self._hasher = hasher
        self._executor = executor
        self.bound = bound
        self.retry_after_s = retry_after_s
        self._observe = observe_verify
        self.in_flight = 0

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        started = time.perf_counter()
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        finally:
            self._observe(time.perf_counter() - started)

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        if self.bound is not None and self.in_flight >= self.bound:
            raise Overloaded(self.retry_after_s)
        self.in_flight += 1
        future = asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        future.add_done_callback(self._release)
        return await asyncio.shield(future)

    def _release(self, _: object) -> None:
        self.in_flight -= 1
