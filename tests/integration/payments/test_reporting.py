"""Reporting on the real stack: aggregates match the wallet; a stopped reporting slows nothing."""

from __future__ import annotations

import os
import signal
import statistics
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.integration.payments.harness import Platform, players, signed_call

SUMS = ("bets", "bet_count", "wins", "win_count", "refunds", "ggr", "deposits", "withdrawals")


def _aggregates(platform: Platform) -> dict[str, Any]:
    answer = httpx.get(f"{platform.url('reporting')}/v1/aggregates?minutes=30", timeout=10)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _totals(body: dict[str, Any]) -> dict[str, int]:
    return {key: sum(int(m[key]) for m in body["minutes"]) for key in SUMS}


def _caught_up(platform: Platform, bet_count: int, timeout_s: float = 20.0) -> dict[str, Any]:
    """Aggregates once reporting has counted ``bet_count`` bets and has no lag."""
    deadline = time.monotonic() + timeout_s
    while True:
        body = _aggregates(platform)
        lag = body["lag"]
        if _totals(body)["bet_count"] >= bet_count and lag and lag["entries"] == 0:
            return body
        assert time.monotonic() < deadline, f"reporting did not catch up: {body}"
        time.sleep(0.2)


def _play_round(
    client: httpx.Client, player: str, bet: int, win: int, *, rollback: bool = False
) -> float:
    """One game round through the wallet's signed provider API; the debit's latency."""
    round_id = f"r-{uuid.uuid4().hex[:12]}"
    bet_tx = f"b-{uuid.uuid4().hex[:12]}"
    body = {"player_id": player, "tx_id": bet_tx, "round_id": round_id, "amount": bet}
    started = time.perf_counter()
    debit = signed_call(client, "debit", body)
    latency = time.perf_counter() - started
    assert debit.status_code == 200 and debit.json()["status"] == "ok", debit.text
    if rollback:
        cancel = {
            "player_id": player,
            "tx_id": f"rb-{bet_tx}",
            "round_id": round_id,
            "original_tx_id": bet_tx,
        }
        assert signed_call(client, "rollback", cancel).json()["status"] == "ok"
        return latency
    credit = {"player_id": player, "tx_id": f"w-{bet_tx}", "round_id": round_id, "amount": win}
    assert signed_call(client, "credit", credit).json()["status"] == "ok"
    return latency


def _expected_active_players(platform: Platform) -> dict[str, int]:
    """Distinct betting players per minute, straight from the wallet's event stream."""
    per_minute: dict[str, set[str]] = defaultdict(set)
    for _id, fields in platform.redis.xrange("wallet.events", "-", "+"):
        if fields["type"] == "bet":
            minute = datetime.fromtimestamp(int(float(fields["ts"]) // 60) * 60, tz=UTC)
            per_minute[minute.isoformat()].add(fields["player_id"])
    return {minute: len(ids) for minute, ids in per_minute.items()}


def test_aggregates_match_the_bets_and_wins_put_through_the_wallet(platform: Platform) -> None:
    before = _totals(_caught_up(platform, 0))
    who = players(8, first=1)
    rounds = [(p, 100 + 10 * n, (n % 3) * 150) for n, p in enumerate(who * 3)]
    with platform.wallet_client() as client:
        for player, bet, win in rounds:
            _play_round(client, player, bet, win)
        _play_round(client, who[0], 333, 0, rollback=True)

    bets = sum(bet for _, bet, _ in rounds) + 333
    wins = sum(win for _, _, win in rounds)
    expected = {
        "bets": bets,
        "bet_count": len(rounds) + 1,
        "wins": wins,
        "win_count": sum(1 for _, _, win in rounds if win),  # a zero win moves no money
        "refunds": 333,
        "ggr": bets - wins - 333,
        "deposits": 0,
        "withdrawals": 0,
    }
    deadline = time.monotonic() + 20
    while True:  # the wallet's relay publishes shortly after each commit
        after_body = _caught_up(platform, before["bet_count"] + len(rounds) + 1)
        after = _totals(after_body)
        added = {key: after[key] - before[key] for key in SUMS}
        if added == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert added == expected
    active = {
        datetime.fromisoformat(m["minute"]).isoformat(): m["active_players"]
        for m in after_body["minutes"]
        if m["active_players"]
    }
    assert active == _expected_active_players(platform)


def test_a_stopped_reporting_does_not_slow_the_wallet(platform: Platform) -> None:
    reporting = platform.service("reporting")
    counted = _totals(_caught_up(platform, 0))["bet_count"]
    who = players(10, first=20)
    with platform.wallet_client() as client:
        running = [_play_round(client, who[n % 10], 50, 0) for n in range(60)]
        length_before = platform.redis.xlen("wallet.events")
        os.kill(reporting.pid, signal.SIGSTOP)
        try:
            stopped = [_play_round(client, who[n % 10], 50, 0) for n in range(60)]
            time.sleep(0.5)  # let the outbox relay publish
            published = platform.redis.xlen("wallet.events") - length_before
            groups = {g["name"]: g for g in platform.redis.xinfo_groups("wallet.events")}
            last_entry = platform.redis.xrevrange("wallet.events", count=1)[0][0]
        finally:
            os.kill(reporting.pid, signal.SIGCONT)

    # medians: the machine is shared and noisy, a single slow call says little
    typical_running, typical_stopped = statistics.median(running), statistics.median(stopped)
    print(
        f"wallet debit median: {typical_running * 1000:.1f} ms with reporting running, "
        f"{typical_stopped * 1000:.1f} ms with it SIGSTOPped (p95 "
        f"{statistics.quantiles(running, n=20)[-1] * 1000:.1f} / "
        f"{statistics.quantiles(stopped, n=20)[-1] * 1000:.1f} ms)"
    )
    assert published >= 60, "the wallet kept publishing its events"
    assert groups["reporting"]["last-delivered-id"] != last_entry, "reporting fell behind"
    assert typical_stopped <= max(2 * typical_running, typical_running + 0.025)
    _caught_up(platform, counted + 120)  # and it catches up once it runs again
