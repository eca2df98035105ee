"""Queue serialization on the real PostgreSQL: a batch commits whole or not at all."""

from __future__ import annotations

import asyncio

import pytest

from spikekit.reference_platform.audit import audit
from spikekit.reference_platform.wallet.adapters.database import Database
from spikekit.reference_platform.wallet.adapters.unit_of_work import PostgresUnitOfWork
from spikekit.reference_platform.wallet.batch import decide_batch
from spikekit.reference_platform.wallet.domain import Answer, Code, TxKind, TxRequest
from spikekit.reference_platform.wallet.service_layer.handlers import Wallet
from spikekit.reference_platform.wallet.service_layer.unit_of_work import StaleBatch

from .harness import batches, bet, call, execute, query, running_wallet, scalar, seed

# A real failure of the database in the middle of a batch's write: the trigger kills
# the backend that is inserting the ledger entry of tx "boom".
KILL_ON_BOOM = """
CREATE OR REPLACE FUNCTION wallet.kill_on_boom() RETURNS trigger AS $$
BEGIN
    IF NEW.tx_id = 'boom' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER kill_on_boom BEFORE INSERT ON wallet.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION wallet.kill_on_boom();
"""
DISARM = "DROP TRIGGER kill_on_boom ON wallet.ledger_entries"
TABLES = ("transactions", "ledger_entries", "outbox")
BALANCES = "SELECT player_id, balance FROM wallet.accounts ORDER BY player_id"
# one transaction, its requests all waiting for it: a window wide enough to gather them
ONE_BATCH = {"wallet_batch_inflight": 1, "wallet_batch_window_ms": 200.0}


def test_a_database_failure_mid_batch_fails_every_caller_and_writes_nothing(
    wallet_dsn: str,
) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=4, balance=1_000)
        await execute(wallet_dsn, KILL_ON_BOOM)
        bodies = [bet(f"p00000{1 + i % 4}", f"tx-{i}", 10 + i, f"round-{i}") for i in range(11)]
        bodies.append(bet("p000002", "boom", 5, "round-boom"))
        before = await query(wallet_dsn, BALANCES)
        counts = {t: await scalar(wallet_dsn, f"SELECT count(*) FROM wallet.{t}") for t in TABLES}
        async with running_wallet(wallet_dsn, **ONE_BATCH) as client:
            failed = await asyncio.gather(*(call(client, "debit", b) for b in bodies))
            assert await batches(client) == (1, 12)
            assert {r.status_code for r in failed} == {503}
            assert all(r.headers["Retry-After"] == "1" for r in failed)
            assert {r.json()["error"]["code"] for r in failed} == {"UNAVAILABLE"}
            assert await query(wallet_dsn, BALANCES) == before
            for table, count in counts.items():  # the seed's rows only
                assert await scalar(wallet_dsn, f"SELECT count(*) FROM wallet.{table}") == count
            await execute(wallet_dsn, DISARM)
            retried = await asyncio.gather(*(call(client, "debit", b) for b in bodies))
        assert [r.json()["code"] for r in retried] == ["OK"] * 12
        entries = "SELECT count(*) FROM wallet.ledger_entries WHERE kind = 'bet'"
        assert await scalar(wallet_dsn, entries) == 12

    asyncio.run(run())


def test_a_mixed_batch_on_few_accounts_keeps_every_rule(wallet_dsn: str) -> None:
    """Bets, retries, a rollback of a bet of the same batch and wins, all in one batch."""

    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=500)
        p1, p2 = "p000001", "p000002"
        sends = [
            ("debit", bet(p1, "b1", 300, "r1")),
            ("debit", bet(p1, "b1", 300, "r1")),  # a retry in the same batch
            ("debit", bet(p1, "b2", 300, "r2")),  # sees b1: insufficient
            (
                "rollback",
                {"player_id": p1, "tx_id": "c1", "round_id": "r1", "original_tx_id": "b1"},
            ),
            ("credit", bet(p1, "w1", 900, "r1")),  # the round's bet was rolled back
            ("debit", bet(p2, "b3", 200, "r3")),
            ("credit", bet(p2, "w3", 50, "r3")),
            ("debit", bet(p1, "b1", 999, "r1")),  # the same id with another amount
        ]
        async with running_wallet(wallet_dsn, **ONE_BATCH) as client:
            answers = await asyncio.gather(*(call(client, op, body) for op, body in sends))
            assert await batches(client) == (1, len(sends))
        codes = [a.json()["code"] if a.status_code == 200 else a.status_code for a in answers]
        assert codes == [
            "OK",
            "OK",
            "INSUFFICIENT_FUNDS",
            "OK",
            "ROUND_ROLLED_BACK",
            "OK",
            "OK",
            409,
        ]
        assert answers[0].text == answers[1].text
        assert answers[1].headers["Idempotent-Replayed"] == "true"
        assert [a.json()["balance"] for a in answers[:4]] == [200, 200, 200, 500]
        rows = await query(wallet_dsn, BALANCES)
        assert [(r["player_id"], r["balance"]) for r in rows] == [(p1, 500), (p2, 350)]
        status = "SELECT status FROM wallet.transactions WHERE tx_id = 'b1'"
        assert await scalar(wallet_dsn, status) == "rolled_back"
        report = await audit(wallet_dsn)
        failed = {c.name for c in report.checks if not c.ok}
        assert failed <= {"rounds_settled"}, report  # r2 was refused, nothing else open

    asyncio.run(run())


def test_an_optimistic_write_over_a_change_it_has_not_seen_is_refused_whole(
    wallet_dsn: str,
) -> None:
    """Read, someone else writes (a refusal: no balance change), write: StaleBatch, nothing
    stored; the same batch redone reads the change."""

    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=1_000)
        database = await Database.connect(wallet_dsn, service="wallet", size=4, timeout=10)
        try:
            wallet = Wallet(lambda: PostgresUnitOfWork(database))
            batch = [
                TxRequest(TxKind.BET, "aurora", "late", "p000001", 100, "r1"),
                TxRequest(TxKind.BET, "aurora", "other", "p000002", 100, "r2"),
            ]
            async with PostgresUnitOfWork(database, atomic=False) as uow:
                snapshot = await uow.wallet.load_batch(batch, lock=False)
                # meanwhile, another request on p000001 is refused and stored
                refused = await wallet.execute_one(
                    TxRequest(TxKind.BET, "aurora", "big", "p000001", 5_000, "r3")
                )
                assert refused.code is Code.INSUFFICIENT_FUNDS
                _, writes = decide_batch(batch, snapshot)
                with pytest.raises(StaleBatch):
                    await uow.wallet.save_batch(writes)
            stored = "SELECT count(*) FROM wallet.transactions WHERE tx_id IN ('late', 'other')"
            assert await scalar(wallet_dsn, stored) == 0
            answers = await wallet.execute_batch(batch)
            assert [a.balance for a in answers if isinstance(a, Answer)] == [900, 900]
        finally:
            await database.close()

    asyncio.run(run())


def test_many_small_batches_racing_on_two_accounts_keep_every_invariant(wallet_dsn: str) -> None:
    """Small batches, four at once, all on two accounts: optimistic writes keep colliding
    and are redone under locks; each id is applied once and no balance goes wrong."""

    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=20_000)
        bodies = [
            bet(f"p00000{1 + i % 2}", f"race-{i % 150}", 10 + (i % 150) % 40, f"round-{i % 150}")
            for i in range(300)  # every id twice, from different batches
        ]
        async with running_wallet(
            wallet_dsn, wallet_batch_max_size=3, wallet_batch_inflight=4
        ) as client:
            answers = await asyncio.gather(*(call(client, "debit", body) for body in bodies))
            runs, held = await batches(client)
        assert held == 300 and runs >= 100
        assert {a.status_code for a in answers} == {200}
        by_id: dict[str, set[str]] = {}
        for body, answer in zip(bodies, answers, strict=True):
            by_id.setdefault(str(body["tx_id"]), set()).add(answer.text)
        assert all(len(texts) == 1 for texts in by_id.values())  # one answer per id
        moved = {"p000001": 0, "p000002": 0}
        for body in bodies[:150]:
            moved[str(body["player_id"])] += int(body["amount"])
        rows = await query(wallet_dsn, BALANCES)
        assert {r["player_id"]: r["balance"] for r in rows} == {
            player: 20_000 - amount for player, amount in moved.items()
        }
        report = await audit(wallet_dsn)
        assert {c.name for c in report.checks if not c.ok} <= {"rounds_settled"}, report

    asyncio.run(run())
