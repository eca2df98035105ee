"""The fragile profile shows what idempotency and per-account serialization prevent."""

from __future__ import annotations

import asyncio

from spikekit.reference_platform.audit import audit

from .harness import bet, call, running_wallet, scalar, seed


def test_without_idempotency_a_retried_debit_is_applied_again(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=100_000)
        async with running_wallet(wallet_dsn, profile="fragile") as client:
            body = bet("p000001", "dup-1", 100, "round-1")
            for _ in range(5):  # a provider retrying after timeouts
                assert (await call(client, "debit", body)).json()["code"] == "OK"
        entries = "SELECT count(*) FROM wallet.ledger_entries WHERE tx_id = 'dup-1'"
        assert await scalar(wallet_dsn, entries) == 5  # duplicate debits: the failure
        report = await audit(wallet_dsn)
        applied_once = next(c for c in report.checks if c.name == "applied_once")
        assert applied_once.offending_ids == ["aurora:dup-1"]

    asyncio.run(run())


def test_without_serialization_concurrent_debits_lose_updates(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=100_000)
        async with running_wallet(wallet_dsn, profile="fragile", pool_size=10) as client:
            answers = await asyncio.gather(
                *(
                    call(client, "debit", bet("p000002", f"lost-{i}", 100, f"r-{i}"))
                    for i in range(40)
                )
            )
        assert all(a.json()["code"] == "OK" for a in answers)
        balance = "SELECT balance FROM wallet.accounts WHERE player_id = 'p000002'"
        assert await scalar(wallet_dsn, balance) > 100_000 - 40 * 100  # updates were lost
        report = await audit(wallet_dsn)
        mismatch = next(c for c in report.checks if c.name == "ledger_matches_balances")
        assert mismatch.offending_ids == ["p000002"]

    asyncio.run(run())
