"""A randomized concurrent workload keeps every ledger invariant; the audit catches corruption."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from spikekit.cli.platform import app as platform_cli
from spikekit.reference_platform.audit import audit

from .harness import batches, bet, call, cancel, query, running_wallet, scalar, seed

PLAYERS = 4
START = 1_000


@dataclass(frozen=True)
class Round:
    player: int
    stake: int
    ending: str  # "win", "lose", "rollback", "rollback_first"
    payout: int
    retries: int


rounds = st.builds(
    Round,
    player=st.integers(1, PLAYERS),
    stake=st.integers(1, 600),
    ending=st.sampled_from(["win", "lose", "rollback", "rollback_first"]),
    payout=st.integers(1, 1_500),
    retries=st.integers(1, 3),
)


async def play(client: httpx.AsyncClient, number: int, game: Round) -> tuple[str, int]:
    """One round as a provider plays it, each call sent ``retries`` times at once."""
    player, round_id = f"p{game.player:06d}", f"round-{number}"
    bet_id, settle_id = f"bet-{number}", f"settle-{number}"

    async def send(operation: str, body: dict[str, object]) -> dict[str, object]:
        answers = await asyncio.gather(
            *(call(client, operation, body) for _ in range(game.retries))
        )
        assert len({a.text for a in answers}) == 1, [a.text for a in answers]
        payload: dict[str, object] = answers[0].json()
        return payload

    if game.ending == "rollback_first":
        await send("rollback", cancel(player, settle_id, bet_id, round_id))
        late = await send("debit", bet(player, bet_id, game.stake, round_id))
        assert late["code"] == "TX_ROLLED_BACK"
        return player, 0
    placed = await send("debit", bet(player, bet_id, game.stake, round_id))
    if placed["code"] != "OK":
        assert placed["code"] == "INSUFFICIENT_FUNDS"
        return player, 0
    if game.ending == "rollback":
        refund = await send("rollback", cancel(player, settle_id, bet_id, round_id))
        assert refund["amount"] == game.stake
        return player, 0
    payout = game.payout if game.ending == "win" else 0
    won = await send("credit", bet(player, settle_id, payout, round_id))
    assert won["code"] == "OK"
    return player, payout - game.stake


def check_workload(wallet_dsn: str, games: list[Round], **overrides: Any) -> None:
    async def run() -> None:
        await seed(wallet_dsn, players=PLAYERS, balance=START)
        async with running_wallet(wallet_dsn, pool_size=8, **overrides) as client:
            results = await asyncio.gather(*(play(client, i, g) for i, g in enumerate(games)))
            if overrides.get("wallet_batch_window_ms"):
                runs, held = await batches(client)
                assert held >= 2 * runs, (runs, held)  # batches of several requests
        expected = {f"p{n:06d}": START for n in range(1, PLAYERS + 1)}
        for player, net in results:
            expected[player] += net
        rows = await query(wallet_dsn, "SELECT player_id, balance FROM wallet.accounts")
        assert {r["player_id"]: r["balance"] for r in rows} == expected
        report = await audit(wallet_dsn)
        assert report.ok, report

    asyncio.run(run())


WORKLOAD = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@WORKLOAD
@given(games=st.lists(rounds, min_size=5, max_size=30))
def test_a_random_concurrent_workload_keeps_the_invariants(
    wallet_dsn: str, games: list[Round]
) -> None:
    check_workload(wallet_dsn, games)  # the default batching


@WORKLOAD
@given(games=st.lists(rounds, min_size=5, max_size=30))
def test_the_invariants_hold_in_large_mixed_batches(wallet_dsn: str, games: list[Round]) -> None:
    """A window gathers many rounds' calls, retries included, into few transactions."""
    check_workload(wallet_dsn, games, wallet_batch_window_ms=5.0, wallet_batch_inflight=2)


@WORKLOAD
@given(games=st.lists(rounds, min_size=5, max_size=30))
def test_the_invariants_hold_unbatched(wallet_dsn: str, games: list[Round]) -> None:
    check_workload(wallet_dsn, games, wallet_batching=False)


def test_the_audit_fails_on_corrupted_rows_and_names_them(wallet_dsn: str) -> None:
    async def workload() -> None:
        await seed(wallet_dsn, players=PLAYERS, balance=START)
        async with running_wallet(wallet_dsn) as client:
            games = [Round(1 + i % PLAYERS, 50, "win", 80, 2) for i in range(8)]
            await asyncio.gather(*(play(client, i, g) for i, g in enumerate(games)))

    asyncio.run(workload())
    runner = CliRunner()
    clean = runner.invoke(platform_cli, ["audit", "--dsn", wallet_dsn, "--json"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["ok"] is True

    async def corrupt() -> None:
        conn_sql = [
            "UPDATE wallet.accounts SET balance = balance + 1 WHERE player_id = 'p000001'",
            "INSERT INTO wallet.ledger_entries (player_id, provider, tx_id, kind, amount,"
            " balance_after) SELECT player_id, provider, tx_id, kind, 0, balance_after"
            " FROM wallet.ledger_entries WHERE tx_id = 'bet-1'",
            "UPDATE wallet.accounts SET balance = -5 WHERE player_id = 'p000003'",
            "UPDATE wallet.transactions SET status = 'refused' WHERE tx_id = 'settle-2'",
        ]
        for sql in conn_sql:
            await query(wallet_dsn, sql)
        assert await scalar(wallet_dsn, "SELECT count(*) FROM wallet.accounts") == PLAYERS

    asyncio.run(corrupt())
    broken = runner.invoke(platform_cli, ["audit", "--dsn", wallet_dsn, "--json"])
    assert broken.exit_code == 1, broken.output
    report = json.loads(broken.output[: broken.output.rindex("}") + 1])
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is False
    assert checks["ledger_matches_balances"]["offending_ids"] == ["p000001", "p000003"]
    assert checks["applied_once"]["offending_ids"] == ["aurora:bet-1"]
    assert checks["no_negative_balance"]["offending_ids"] == ["p000003"]
    assert checks["rounds_settled"]["offending_ids"] == ["aurora:round-2"]
