"""The simulated payment provider (card acquirer / PSP), in process.

It takes ``latency_s`` (± ``jitter_s``) per call and declines a share
``decline_rate`` of payments. Like a real provider, which is idempotent by the
merchant's reference, it gives the same answer every time it sees the same
payment: the decision is a hash of the payment id, the operation and a seed,
so a payment retried after a worker crash is not charged or declined anew.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass

from spikekit.reference_platform.payments.domain import DECLINED, Outcome, Payment
from spikekit.reference_platform.payments.service_layer.ports import AbstractProvider


def declines(seed: str, operation: str, payment_id: str, rate: float) -> bool:
    """Whether the provider declines this payment; deterministic, uniform over ids."""
    digest = hashlib.sha256(f"{seed}:{operation}:{payment_id}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    return draw < rate


@dataclass(frozen=True)
class ProviderConfig:
    latency_s: float = 0.02
    jitter_s: float = 0.01
    decline_rate: float = 0.02
    seed: str = "spikekit"


class SimulatedProvider(AbstractProvider):
    def __init__(self, config: ProviderConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self._rng = rng or random.Random()

    async def charge(self, payment: Payment) -> Outcome:
        return await self._answer("charge", payment)

    async def payout(self, payment: Payment) -> Outcome:
        return await self._answer("payout", payment)

    async def _answer(self, operation: str, payment: Payment) -> Outcome:
        config = self.config
        delay = config.latency_s + self._rng.uniform(-config.jitter_s, config.jitter_s)
        if delay > 0:
            await asyncio.sleep(delay)
        if declines(config.seed, operation, payment.payment_id, config.decline_rate):
            return Outcome.refused(DECLINED)
        return Outcome(ok=True)
