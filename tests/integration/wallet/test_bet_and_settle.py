"""Bet and settle on the real PostgreSQL: one call per instant round, two records and two
ledger entries, exactly once under retries and concurrent duplicates, the win never after a
refused bet, and a clean audit after a burst (batched, and one unit of work per call)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from spikekit.reference_platform.audit import audit

from .harness import call, query, running_wallet, scalar, seed

BALANCES = "SELECT player_id, balance FROM wallet.accounts ORDER BY player_id"
MODES = {"batched": {}, "one unit of work": {"wallet_batching": False}}


def settle(player: str, n: int, bet: int, win: int, tag: str = "r") -> dict[str, Any]:
    round_id = f"{tag}-{n}"
    return {
        "player_id": player,
        "round_id": round_id,
        "bet_tx_id": f"{round_id}-bet",
        "bet": bet,
        "win_tx_id": f"{round_id}-win",
        "win": win,
        "game_id": "starburst-nova",
    }


async def _rows(dsn: str, round_id: str) -> list[tuple[str, int]]:
    rows = await query(
        dsn,
        "SELECT kind, amount FROM wallet.ledger_entries WHERE round_id = $1 ORDER BY id",
        round_id,
    )
    return [(r["kind"], r["amount"]) for r in rows]


@pytest.mark.parametrize("mode", list(MODES))
def test_concurrent_duplicates_and_retries_settle_a_round_once(wallet_dsn: str, mode: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=1_000)
        body = settle("p000001", 1, 300, 750, mode.replace(" ", "-"))
        async with running_wallet(wallet_dsn, **MODES[mode]) as client:
            answers = await asyncio.gather(
                *(call(client, "bet-and-settle", body) for _ in range(40))
            )
            retry = await call(client, "bet-and-settle", body)
        assert {r.status_code for r in answers} == {200}
        assert {(r.json()["status"], r.json()["balance"]) for r in answers} == {("ok", 1_450)}
        assert sum("Idempotent-Replayed" not in r.headers for r in answers) == 1
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json()["bet"]["tx_id"] == body["bet_tx_id"]
        assert retry.json()["win"]["amount"] == 750
        assert await _rows(wallet_dsn, body["round_id"]) == [("bet", -300), ("win", 750)]
        kinds = await query(
            wallet_dsn,
            "SELECT kind, status FROM wallet.transactions WHERE round_id = $1 ORDER BY kind",
            body["round_id"],
        )
        assert [(k["kind"], k["status"]) for k in kinds] == [("bet", "applied"), ("win", "applied")]
        assert dict(await query(wallet_dsn, BALANCES))["p000001"] == 1_450

    asyncio.run(run())


@pytest.mark.parametrize("mode", list(MODES))
def test_a_bet_refused_for_insufficient_funds_applies_no_win(wallet_dsn: str, mode: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=1, balance=1_000)
        body = settle("p000001", 1, 1_001, 5_000, "poor-" + mode.replace(" ", "-"))
        async with running_wallet(wallet_dsn, **MODES[mode]) as client:
            first = await call(client, "bet-and-settle", body)
            again = await call(client, "bet-and-settle", body)
            debit = await call(
                client,
                "debit",
                {"player_id": "p000001", "tx_id": "poor-debit", "round_id": "x", "amount": 1_001},
            )
        for answer in (first, again):
            assert answer.status_code == 200
            payload = answer.json()
            assert (payload["status"], payload["code"]) == ("refused", "INSUFFICIENT_FUNDS")
            assert payload["win"] is None and payload["balance"] == 1_000
        assert debit.json()["code"] == "INSUFFICIENT_FUNDS"  # the same answer as a debit's
        assert await _rows(wallet_dsn, body["round_id"]) == []
        wins = "SELECT count(*) FROM wallet.transactions WHERE tx_id = $1"
        assert await scalar(wallet_dsn, wins, body["win_tx_id"]) == 0
        assert dict(await query(wallet_dsn, BALANCES))["p000001"] == 1_000

    asyncio.run(run())


def test_a_bad_pair_is_a_4xx_and_moves_nothing(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=1, balance=1_000)
        same_ids = {**settle("p000001", 1, 100, 0), "win_tx_id": "r-1-bet"}
        async with running_wallet(wallet_dsn) as client:
            refused = await call(client, "bet-and-settle", same_ids)
            unknown = await call(client, "bet-and-settle", settle("p999999", 2, 100, 0))
            first = await call(client, "bet-and-settle", settle("p000001", 3, 100, 50))
            changed = await call(client, "bet-and-settle", settle("p000001", 3, 100, 60))
        assert refused.status_code == 422
        assert unknown.status_code == 404
        assert first.status_code == 200 and changed.status_code == 409
        assert dict(await query(wallet_dsn, BALANCES))["p000001"] == 950

    asyncio.run(run())


def test_the_audit_is_clean_after_a_burst_of_rounds_and_their_retries(wallet_dsn: str) -> None:
    players = [f"p{n:06d}" for n in range(1, 21)]
    rng = random.Random(13)
    bodies = [
        settle(rng.choice(players), n, rng.randint(10, 400), rng.choice([0, 0, 150, 900]), "burst")
        for n in range(400)
    ]
    bodies += rng.sample(bodies, 80)  # retries with the same ids, mixed in
    rng.shuffle(bodies)

    async def run() -> None:
        await seed(wallet_dsn, players=20, balance=2_000)
        before = sum(b for _, b in await query(wallet_dsn, BALANCES))
        async with running_wallet(wallet_dsn) as client:
            gate = asyncio.Semaphore(64)

            async def send(body: dict[str, Any]) -> httpx.Response:
                async with gate:
                    return await call(client, "bet-and-settle", body)

            answers = await asyncio.gather(*(send(b) for b in bodies))
        assert {r.status_code for r in answers} == {200}
        settled: dict[str, int] = {}
        for body, answer in zip(bodies, answers, strict=True):
            if answer.json()["status"] == "ok":
                settled[body["round_id"]] = body["win"] - body["bet"]
        assert any(r.json()["code"] == "INSUFFICIENT_FUNDS" for r in answers)
        after = sum(b for _, b in await query(wallet_dsn, BALANCES))
        assert after - before == sum(settled.values())
        report = await audit(wallet_dsn)
        assert report.ok, report.failed()

    asyncio.run(run())
