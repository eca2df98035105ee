"""A fake unit of work: the wallet's storage interface in memory, for handler and API tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from spikekit.reference_platform.wallet.batch import (
    BatchSnapshot,
    BatchWrites,
    round_key,
    round_of,
    tx_keys,
)
from spikekit.reference_platform.wallet.domain import (
    Account,
    Decision,
    LedgerEntry,
    RoundState,
    Snapshot,
    TxKind,
    TxRecord,
    TxRequest,
    TxStatus,
)
from spikekit.reference_platform.wallet.service_layer.unit_of_work import (
    AbstractRepository,
    AbstractUnitOfWork,
    StaleBatch,
    WalletUnavailable,
)


@dataclass
class FakeStore:
    accounts: dict[str, Account] = field(default_factory=dict)
    records: dict[tuple[str, str], TxRecord] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    commits: int = 0
    fail_saves: bool = False  # the storage fails while writing (a database failure)
    stale_saves: int = 0  # this many batch writes find an account moved since their read
    batch_loads: list[bool] = field(default_factory=list)  # each batch read: locked?

    def fund(self, player_id: str, balance: int) -> None:
        self.accounts[player_id] = Account(player_id, balance)

    def round_state(self, source: str, round_id: str | None, player_id: str) -> RoundState:
        rows = [
            r
            for r in self.records.values()
            if r.source == source and r.round_id == round_id and r.player_id == player_id
        ]
        bets = [r for r in rows if r.kind is TxKind.BET]
        return RoundState(
            open_bets=sum(r.status is TxStatus.APPLIED for r in bets),
            rolled_back_bets=sum(
                r.status in (TxStatus.ROLLED_BACK, TxStatus.CANCELLED) for r in bets
            ),
            wins=sum(r.kind is TxKind.WIN and r.status is TxStatus.APPLIED for r in rows),
        )


class FakeRepository(AbstractRepository):
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.pending: list[Decision] = []
        self.batches: list[BatchWrites] = []
        self.opened: list[Account] = []

    async def snapshot(self, request: TxRequest, *, lock: bool) -> Snapshot | None:
        account = self.store.accounts.get(request.player_id)
        if account is None:
            return None
        original = None
        if request.original_tx_id is not None:
            original = self.store.records.get((request.source, request.original_tx_id))
        return Snapshot(
            account,
            self.store.records.get((request.source, request.tx_id)),
            original,
            self.store.round_state(request.source, request.round_id, request.player_id),
        )

    async def account(self, player_id: str) -> Account | None:
        return self.store.accounts.get(player_id)

    async def open_account(self, player_id: str, currency: str) -> tuple[Account, bool]:
        existing = self.store.accounts.get(player_id)
        if existing is not None:
            return existing, False
        account = Account(player_id, 0, currency)
        self.opened.append(account)
        return account, True

    async def save(self, decision: Decision, *, idempotent: bool) -> None:
        if self.store.fail_saves:
            raise WalletUnavailable("fake storage failure")
        self.pending.append(decision)

    async def load_batch(self, requests: Sequence[TxRequest], *, lock: bool) -> BatchSnapshot:
        store = self.store
        store.batch_loads.append(lock)
        players = {r.player_id for r in requests}
        accounts = {p: a for p, a in store.accounts.items() if p in players}
        keys = {key for r in requests for key in tx_keys(r)}
        rounds = frozenset(k for r in requests if (k := round_key(r)) is not None)
        records = {
            key: record
            for key, record in store.records.items()
            if key in keys or round_of(record) in rounds
        }
        return BatchSnapshot(accounts, records, rounds)

    async def save_batch(self, writes: BatchWrites) -> None:
        if self.store.fail_saves:
            raise WalletUnavailable("fake storage failure")
        if self.store.stale_saves:
            self.store.stale_saves -= 1
            raise StaleBatch("an account moved (fake)")
        self.batches.append(writes)


class FakeUnitOfWork(AbstractUnitOfWork):
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.wallet = FakeRepository(store)

    async def commit(self) -> None:
        repo = self.wallet
        assert isinstance(repo, FakeRepository)
        for account in repo.opened:
            self.store.accounts[account.player_id] = account
        for decision in repo.pending:
            self._apply(decision)
        for writes in repo.batches:
            self._apply_batch(writes)
        repo.pending.clear()
        repo.batches.clear()
        repo.opened.clear()
        self.store.commits += 1

    def _apply_batch(self, writes: BatchWrites) -> None:
        store = self.store
        for record in (*writes.inserts, *writes.rolled_back):
            store.records[(record.source, record.tx_id)] = record
        store.ledger.extend(writes.entries)
        for player_id, balance in writes.balances.items():
            store.accounts[player_id] = replace(store.accounts[player_id], balance=balance)

    def _apply(self, decision: Decision) -> None:
        store = self.store
        for record in (decision.record, decision.tombstone, decision.refunded):
            if record is not None:
                store.records[(record.source, record.tx_id)] = record
        if decision.entry is not None:
            entry = decision.entry
            store.ledger.append(entry)
            account = store.accounts[entry.player_id]
            store.accounts[entry.player_id] = replace(account, balance=entry.balance_after)

    async def rollback(self) -> None:
        repo = self.wallet
        assert isinstance(repo, FakeRepository)
        repo.pending.clear()
        repo.opened.clear()
