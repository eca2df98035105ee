"""Payments in Redis: one hash per payment, an idempotency index, the request stream.

Keys (prefix ``payments:``)::

    payments:payment:<payment_id>                     hash: the payment and its stage
    payments:key:<kind>:<player_id>:<idempotency key> string: the payment id (SET NX)
    payments.requests                                 stream: {payment_id} per request

Accepting is one Lua script, so the key, the hash and the stream entry exist
together or not at all, and the queue bound is checked in the same step. A
stage changes only by compare-and-set (another script), which makes every
transition idempotent: a second runner's write for a stage already left fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis

from spikekit.reference_platform.common import oplog
from spikekit.reference_platform.payments.domain import Kind, Payment, Stage, Unavailable
from spikekit.reference_platform.payments.service_layer.ports import (
    AbstractPaymentStore,
    Accepted,
    Admission,
)

T = TypeVar("T")
REDIS_ERRORS: tuple[type[BaseException], ...] = (aioredis.RedisError, OSError, TimeoutError)

# KEYS: idempotency key, payment hash, stream
# ARGV: payment id, max depth (0: unbounded), ttl seconds, enqueue (1/0), field, value, ...
ACCEPT = """
local existing = redis.call('GET', KEYS[1])
if existing then return {'existing', existing} end
local bound = tonumber(ARGV[2])
if bound > 0 and redis.call('XLEN', KEYS[3]) >= bound then return {'full', ''} end
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3])
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[2], ARGV[3])
if ARGV[4] == '1' then redis.call('XADD', KEYS[3], '*', 'payment_id', ARGV[1]) end
return {'new', ARGV[1]}
"""

# KEYS: payment hash; ARGV: expected stage, field, value, ...
TRANSITION = """
if redis.call('HGET', KEYS[1], 'stage') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
"""


async def guarded(call: Callable[[], Awaitable[T]], what: str = "redis") -> T:
    """Run a Redis call; its failures become :class:`Unavailable`."""
    try:
        return await call()
    except REDIS_ERRORS as error:
        oplog.event("redis_unavailable", "warning", what, use=what, error=type(error).__name__)
        raise Unavailable(what, f"{error.__class__.__name__}: {error}") from error


def to_fields(payment: Payment) -> dict[str, str]:
    fields = {
        "payment_id": payment.payment_id,
        "kind": payment.kind.value,
        "player_id": payment.player_id,
        "amount": str(payment.amount),
        "idempotency_key": payment.idempotency_key,
        "stage": payment.stage.value,
        "reason": payment.reason or "",
        "created_at": repr(payment.created_at),
        "updated_at": repr(payment.updated_at),
        "balance": "" if payment.balance is None else str(payment.balance),
    }
    return fields


def from_fields(raw: dict[Any, Any]) -> Payment:
    fields = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }
    return Payment(
        payment_id=fields["payment_id"],
        kind=Kind(fields["kind"]),
        player_id=fields["player_id"],
        amount=int(fields["amount"]),
        idempotency_key=fields["idempotency_key"],
        stage=Stage(fields["stage"]),
        reason=fields.get("reason") or None,
        created_at=float(fields.get("created_at") or 0),
        updated_at=float(fields.get("updated_at") or 0),
        balance=int(fields["balance"]) if fields.get("balance") else None,
    )


def _flat(fields: dict[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


class RedisPaymentStore(AbstractPaymentStore):
    def __init__(self, redis: aioredis.Redis, *, prefix: str, stream: str, ttl_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._stream = stream
        self._ttl_s = ttl_s
        self._accept = redis.register_script(ACCEPT)
        self._transition = redis.register_script(TRANSITION)

    def payment_key(self, payment_id: str) -> str:
        return f"{self._prefix}payment:{payment_id}"

    def idempotency_key(self, kind: Kind, player_id: str, key: str) -> str:
        return f"{self._prefix}key:{kind.value}:{player_id}:{key}"

    async def accept(self, payment: Payment, *, enqueue: bool, max_depth: int | None) -> Accepted:
        keys = [
            self.idempotency_key(payment.kind, payment.player_id, payment.idempotency_key),
            self.payment_key(payment.payment_id),
            self._stream,
        ]
        args: list[str | int] = [payment.payment_id, max_depth or 0, self._ttl_s, int(enqueue)]
        args.extend(_flat(to_fields(payment)))
        reply = await guarded(lambda: self._accept(keys=keys, args=args))
        admission, payment_id = (p.decode() if isinstance(p, bytes) else str(p) for p in reply)
        return Accepted(Admission(admission), payment_id or None)

    async def get(self, payment_id: str) -> Payment | None:
        raw = await guarded(lambda: self._redis.hgetall(self.payment_key(payment_id)))
        return from_fields(raw) if raw else None

    async def transition(self, before: Payment, after: Payment) -> bool:
        fields = to_fields(after)
        changed = {k: v for k, v in fields.items() if k not in ("payment_id", "created_at")}
        keys = [self.payment_key(before.payment_id)]
        args = [before.stage.value, *_flat(changed)]
        return bool(await guarded(lambda: self._transition(keys=keys, args=args)))
