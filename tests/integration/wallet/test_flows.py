"""Round flows, payments and the outbox, on the real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis

from spikekit.reference_platform.audit import audit
from spikekit.reference_platform.redis_server import RedisServer

from .harness import (
    AS_GATEWAY,
    AS_PAYMENTS,
    bet,
    call,
    cancel,
    query,
    running_wallet,
    scalar,
    seed,
)

BALANCE = "SELECT balance FROM wallet.accounts WHERE player_id = $1"


def test_rollback_before_bet_refuses_the_late_bet(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=1_000)
        async with running_wallet(wallet_dsn) as client:
            first = await call(client, "rollback", cancel("p000001", "rb-1", "bet-1", "round-1"))
            late = await call(client, "debit", bet("p000001", "bet-1", 300, "round-1"))
            retry = await call(client, "debit", bet("p000001", "bet-1", 300, "round-1"))
        assert first.json()["code"] == "OK" and first.json()["amount"] == 0
        assert late.json()["code"] == retry.json()["code"] == "TX_ROLLED_BACK"
        assert await scalar(wallet_dsn, BALANCE, "p000001") == 1_000
        assert (await audit(wallet_dsn)).ok

    asyncio.run(run())


def test_credit_after_rollback_is_refused_and_the_bet_refunded(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=1_000)
        async with running_wallet(wallet_dsn) as client:
            placed = await call(client, "debit", bet("p000002", "bet-2", 400, "round-2"))
            refund = await call(client, "rollback", cancel("p000002", "rb-2", "bet-2", "round-2"))
            refund_again = await call(
                client, "rollback", cancel("p000002", "rb-2", "bet-2", "round-2")
            )
            win = await call(client, "credit", bet("p000002", "win-2", 900, "round-2"))
        assert placed.json()["balance"] == 600
        assert refund.json() == refund_again.json()
        assert refund.json()["amount"] == 400 and refund.json()["balance"] == 1_000
        assert win.json()["code"] == "ROUND_ROLLED_BACK"
        assert await scalar(wallet_dsn, BALANCE, "p000002") == 1_000
        assert (await audit(wallet_dsn)).ok

    asyncio.run(run())


def test_a_retried_credit_pays_once_and_settles_the_round(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=1_000)
        async with running_wallet(wallet_dsn) as client:
            await call(client, "debit", bet("p000001", "bet-3", 100, "round-3"))
            wins = await asyncio.gather(
                *(call(client, "credit", bet("p000001", "win-3", 250, "round-3")) for _ in range(5))
            )
            late_rollback = await call(
                client, "rollback", cancel("p000001", "rb-3", "bet-3", "round-3")
            )
        assert len({w.text for w in wins}) == 1 and wins[0].json()["balance"] == 1_150
        assert late_rollback.json()["code"] == "ROUND_SETTLED"
        assert await scalar(wallet_dsn, BALANCE, "p000001") == 1_150
        assert (await audit(wallet_dsn)).ok

    asyncio.run(run())


def test_payments_deposit_and_withdraw_idempotently(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=1, balance=0)
        async with running_wallet(wallet_dsn) as client:
            url = "/v1/players/p000001"
            deposits = await asyncio.gather(
                *(
                    client.post(
                        f"{url}/deposit",
                        json={"amount": 5_000},
                        headers={"Idempotency-Key": "d1"},
                        auth=AS_PAYMENTS,
                    )
                    for _ in range(10)
                )
            )
            withdrawal = await client.post(
                f"{url}/withdraw",
                json={"amount": 1_500},
                headers={"Idempotency-Key": "w1"},
                auth=AS_PAYMENTS,
            )
            balance = await client.get(f"{url}/balance", auth=AS_GATEWAY)
        assert {d.json()["balance"] for d in deposits} == {5_000}
        assert withdrawal.json()["balance"] == 3_500
        assert balance.json() == {"player_id": "p000001", "balance": 3_500, "currency": "EUR"}
        assert (await audit(wallet_dsn)).ok

    asyncio.run(run())


def test_bad_input_on_the_real_database_gets_4xx(wallet_dsn: str) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=1, balance=100)
        async with running_wallet(wallet_dsn) as client:
            unknown = await call(client, "debit", bet("p999999", "x-1", 10, "r"))
            fractional = await call(
                client, "debit", {**bet("p000001", "x-2", 1, "r"), "amount": 2.5}
            )
            mismatch = [
                await call(client, "debit", bet("p000001", "x-3", 10, "r")),
                await call(client, "debit", bet("p000001", "x-3", 20, "r")),
            ]
            missing = await client.get("/v1/players/p999999/balance", auth=AS_GATEWAY)
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "UNKNOWN_PLAYER")
        assert fractional.status_code == 422
        assert [r.status_code for r in mismatch] == [200, 409]
        assert missing.status_code == 404

    asyncio.run(run())


def test_outbox_events_reach_the_redis_stream(wallet_dsn: str, redis_server: RedisServer) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=2, balance=1_000)
        redis = aioredis.from_url(redis_server.url)
        await redis.delete("wallet.events")
        async with running_wallet(wallet_dsn, redis_url=redis_server.url) as client:
            await call(client, "debit", bet("p000001", "ev-bet", 100, "ev-round"))
            await call(client, "credit", bet("p000001", "ev-win", 300, "ev-round"))
            for _ in range(100):
                if await redis.xlen("wallet.events") >= 2:
                    break
                await asyncio.sleep(0.05)
            metrics = (await client.get("/metrics")).text
        events = await redis.xrange("wallet.events")
        await redis.aclose()
        fields = [{k.decode(): v.decode() for k, v in data.items()} for _, data in events]
        assert [(f["type"], f["tx_id"], int(f["amount"])) for f in fields] == [
            ("bet", "ev-bet", -100),
            ("win", "ev-win", 300),
        ]
        assert fields[1]["balance"] == "1200" and fields[0]["event_id"] == "aurora:ev-bet"
        assert list(fields[0]) == [
            "event_id",
            "type",
            "provider",
            "tx_id",
            "player_id",
            "round_id",
            "amount",
            "balance",
            "ts",
        ]
        assert float(fields[0]["ts"]) > 0 and fields[0]["round_id"] == "ev-round"
        assert await query(wallet_dsn, "SELECT id FROM wallet.outbox") == []
        assert 'wallet_transactions_total{operation="debit",outcome="OK"} 1.0' in metrics
        assert "wallet_db_pool_in_use" in metrics and "wallet_outbox_backlog" in metrics
        assert json.loads(json.dumps(fields))  # plain strings, ready for consumers

    asyncio.run(run())
