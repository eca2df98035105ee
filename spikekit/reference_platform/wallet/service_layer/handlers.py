"""The wallet's use cases: a money request, a balance, opening an account.

Each request runs in its own unit of work. In the ``resilient`` profile the
account row is locked before the rules run (serialized per account; one account
per transaction, so no deadlock) and a known transaction id gets its stored
answer. The ``fragile`` profile turns both off to show what they prevent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from spikekit.reference_platform.wallet.domain import (
    Account,
    Answer,
    TxRequest,
    UnknownPlayer,
    decide,
)
from spikekit.reference_platform.wallet.service_layer.unit_of_work import (
    AbstractUnitOfWork,
    DuplicateTransaction,
)

UnitOfWorkFactory = Callable[[], AbstractUnitOfWork]


@dataclass(frozen=True)
class Policy:
    """The resilience mechanisms of the money path."""

    idempotent: bool = True  # a repeated transaction id gets its stored answer
    serialized: bool = True  # SELECT ... FOR UPDATE on the account row

    @classmethod
    def for_profile(cls, profile: str) -> Policy:
        fragile = profile == "fragile"
        return cls(idempotent=not fragile, serialized=not fragile)


@dataclass
class Wallet:
    """The handlers with their dependencies, as wired by :func:`..bootstrap.bootstrap`."""

    uow: UnitOfWorkFactory
    policy: Policy = Policy()
    currency: str = "EUR"
    on_commit: Callable[[], None] = lambda: None

    async def execute(self, request: TxRequest) -> Answer:
        """Apply one bet, win, rollback, deposit or withdrawal; the answer is stored."""
        try:
            return await self._execute(request)
        except DuplicateTransaction:
            # another account's request stored this id meanwhile: now it is known
            return await self._execute(request)

    async def _execute(self, request: TxRequest) -> Answer:
        async with self.uow() as uow:
            snapshot = await uow.wallet.snapshot(request, lock=self.policy.serialized)
            if snapshot is None:
                raise UnknownPlayer(request.player_id)
            if not self.policy.idempotent:
                snapshot = replace(snapshot, existing=None)
            decision = decide(request, snapshot)
            if decision.writes:
                await uow.wallet.save(decision, idempotent=self.policy.idempotent)
                await uow.commit()
                if decision.entry is not None:
                    self.on_commit()
            return decision.answer

    async def balance(self, player_id: str) -> Account:
        async with self.uow() as uow:
            account = await uow.wallet.account(player_id)
        if account is None:
            raise UnknownPlayer(player_id)
        return account

    async def open_account(self, player_id: str) -> tuple[Account, bool]:
        async with self.uow() as uow:
            account, created = await uow.wallet.open_account(player_id, self.currency)
            await uow.commit()
        return account, created
