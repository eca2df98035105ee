"""Concurrent requests on one account, on the real PostgreSQL: applied once, never overdrawn."""

from __future__ import annotations

import asyncio

from spikekit.reference_platform.audit import audit

from .harness import batches, bet, call, running_wallet, scalar, seed


def test_200_concurrent_identical_debits_make_one_entry_and_one_answer(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=3, balance=10_000)
        async with running_wallet(wallet_dsn) as client:
            body = bet("p000001", "dup-1", 250, "round-1")
            responses = await asyncio.gather(*(call(client, "debit", body) for _ in range(200)))
            runs, held = await batches(client)
        assert held == 200 and runs < 200  # through the batcher, several per transaction
        assert {r.status_code for r in responses} == {200}
        assert len({r.text for r in responses}) == 1  # every caller, the same answer
        assert responses[0].json()["balance"] == 9_750
        replays = sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses)
        assert replays == 199
        entries = await scalar(
            wallet_dsn, "SELECT count(*) FROM wallet.ledger_entries WHERE tx_id = 'dup-1'"
        )
        assert entries == 1
        balance = "SELECT balance FROM wallet.accounts WHERE player_id = 'p000001'"
        assert await scalar(wallet_dsn, balance) == 9_750

    asyncio.run(run())


def test_concurrent_debits_on_one_account_never_overdraw(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=3, balance=1_000)
        async with running_wallet(wallet_dsn) as client:
            responses = await asyncio.gather(
                *(
                    call(client, "debit", bet("p000002", f"od-{i}", 100, f"r-{i}"))
                    for i in range(60)
                )
            )
        codes = [r.json()["code"] for r in responses]
        assert codes.count("OK") == 10
        assert codes.count("INSUFFICIENT_FUNDS") == 50
        balance = "SELECT balance FROM wallet.accounts WHERE player_id = 'p000002'"
        assert await scalar(wallet_dsn, balance) == 0
        report = await audit(wallet_dsn)
        failed = {c.name for c in report.checks if not c.ok}
        assert failed == {"rounds_settled"}  # the bets' rounds are still open, nothing else

    asyncio.run(run())
