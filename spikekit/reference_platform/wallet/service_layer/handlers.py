"""The wallet's use cases: a money request, a balance, opening an account.

In the ``resilient`` profile the account row is locked before the rules run
(serialized per account) and a known transaction id gets its stored answer. The
``fragile`` profile turns both off to show what they prevent.

A money request runs in its own unit of work, or, with a :class:`.Batcher`
(``batched``, resilient only), together with the requests that arrived with it:
the pure :func:`~..batch.decide_batch` decides them in arrival order and one
commit stores them all, either optimistically (read without locks, write only if
none of the written accounts moved meanwhile) or, after such a conflict, under
the locks of all their accounts, taken in player id order (no deadlock).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from spikekit.reference_platform.wallet.batch import Item, Outcome, decide_batch, requests_of
from spikekit.reference_platform.wallet.domain import (
    Account,
    Answer,
    TxRequest,
    UnknownPlayer,
    WalletError,
    decide,
)
from spikekit.reference_platform.wallet.service_layer.batcher import BatchConfig, Batcher
from spikekit.reference_platform.wallet.service_layer.unit_of_work import (
    AbstractUnitOfWork,
    DuplicateTransaction,
    StaleBatch,
)
from spikekit.reference_platform.wallet.settle import BetAndWin, PairAnswer, decide_pair

UnitOfWorkFactory = Callable[[], AbstractUnitOfWork]


@dataclass(frozen=True)
class Policy:
    """The resilience mechanisms of the money path."""

    idempotent: bool = True  # a repeated transaction id gets its stored answer
    serialized: bool = True  # SELECT ... FOR UPDATE on the account row
    batched: bool = False  # requests arriving together share one transaction

    @classmethod
    def for_profile(cls, profile: str, *, batched: bool = False) -> Policy:
        """``batched`` only where both mechanisms are on: a batch relies on them."""
        fragile = profile == "fragile"
        return cls(idempotent=not fragile, serialized=not fragile, batched=batched and not fragile)


@dataclass
class Wallet:
    """The handlers with their dependencies, as wired by :func:`..bootstrap.bootstrap`."""

    uow: UnitOfWorkFactory
    policy: Policy = Policy()
    currency: str = "EUR"
    on_commit: Callable[[], None] = lambda: None
    on_batch: Callable[[int], None] = lambda _: None  # the size of each batch run
    batching: BatchConfig = field(default_factory=BatchConfig)
    optimistic: UnitOfWorkFactory | None = None  # no transaction: batches read without locks

    def __post_init__(self) -> None:
        self.batcher: Batcher | None = None
        if self.policy.batched:
            self.batcher = Batcher(self._run_batch, self.batching)

    async def execute(self, request: TxRequest) -> Answer:
        """Apply one bet, win, rollback, deposit or withdrawal; the answer is stored."""
        if self.batcher is not None:
            answer = await self.batcher.submit(request)
            assert isinstance(answer, Answer)
            return answer
        return await self.execute_one(request)

    async def settle(self, pair: BetAndWin) -> PairAnswer:
        """Apply an instant round's bet and win together (the win only if the bet is taken)."""
        if self.batcher is not None:
            answer = await self.batcher.submit(pair)
            assert isinstance(answer, PairAnswer)
            return answer
        return await self.settle_one(pair)

    async def settle_one(self, pair: BetAndWin) -> PairAnswer:
        """``pair`` in a unit of work of its own."""
        try:
            return await self._settle(pair)
        except DuplicateTransaction:
            return await self._settle(pair)

    async def _settle(self, pair: BetAndWin) -> PairAnswer:
        async with self.uow() as uow:
            bet = await uow.wallet.snapshot(pair.bet, lock=self.policy.serialized)
            win = await uow.wallet.snapshot(pair.win, lock=False)  # the account: read above
            if bet is None or win is None:
                raise UnknownPlayer(pair.bet.player_id)
            if not self.policy.idempotent:
                bet, win = replace(bet, existing=None), replace(win, existing=None)
            decided = decide_pair(pair, bet, win)
            written = [d for d in decided.decisions if d.writes]
            for decision in written:
                await uow.wallet.save(decision, idempotent=self.policy.idempotent)
            if written:
                await uow.commit()
                if any(d.entry is not None for d in written):
                    self.on_commit()
            return decided.answer

    async def _execute_one_item(self, item: Item) -> Answer | PairAnswer:
        if isinstance(item, BetAndWin):
            return await self.settle_one(item)
        return await self.execute_one(item)

    async def execute_one(self, request: TxRequest) -> Answer:
        """``request`` in a unit of work of its own."""
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

    async def _run_batch(self, requests: Sequence[Item]) -> list[Outcome]:
        self.on_batch(len(requests))
        return await self.execute_batch(requests)

    async def execute_batch(self, requests: Sequence[Item]) -> list[Outcome]:
        """Each request's (or pair's) answer or error, all stored at once.

        Optimistically first (when an ``optimistic`` unit of work is wired): read
        without locks, write only if no account moved meanwhile. Then, if something
        came in between, under the accounts' locks; and if a transaction id is still
        racing with another account's request, one request after the other.
        """
        attempts = [(self.uow, True)]
        if self.optimistic is not None:
            attempts.insert(0, (self.optimistic, False))
        for uow, lock in attempts:
            try:
                return await self._execute_batch(requests, uow, lock=lock)
            except (StaleBatch, DuplicateTransaction):
                pass  # nothing was written: redo it more carefully
        outcomes: list[Outcome] = []  # let each request settle its own race
        for request in requests:
            try:
                outcomes.append(await self._execute_one_item(request))
            except WalletError as error:
                outcomes.append(error)
        return outcomes

    async def _execute_batch(
        self, requests: Sequence[Item], uow_factory: UnitOfWorkFactory, *, lock: bool
    ) -> list[Outcome]:
        async with uow_factory() as uow:
            snapshot = await uow.wallet.load_batch(requests_of(requests), lock=lock)
            outcomes, writes = decide_batch(requests, snapshot)
            if writes:
                await uow.wallet.save_batch(writes)
                await uow.commit()
                if writes.entries:
                    self.on_commit()
            return outcomes

    async def close(self) -> None:
        """Let the running batches finish; new requests get :class:`WalletUnavailable`."""
        if self.batcher is not None:
            await self.batcher.close()

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
