"""Reporting's arithmetic and its consumer on fakes: sums, GGR, active players, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from spikekit.reference_platform.reporting.domain import (
    BadEvent,
    MinuteTotals,
    WalletEvent,
    summarize,
)
from spikekit.reference_platform.reporting.entrypoints.app import window_start
from spikekit.reference_platform.reporting.service_layer.consumer import (
    ConsumerConfig,
    EventConsumer,
    count_events,
)
from tests.unit.fake_clock import FakeClock, until
from tests.unit.reporting.fakes import FakeStream, FakeUnitOfWork, Tables

T0 = 1_800_000_000.0  # a minute boundary (divisible by 60)
M0 = datetime.fromtimestamp(T0, tz=UTC)
M1 = datetime.fromtimestamp(T0 + 60, tz=UTC)


def _event(event_id: str, kind: str, player: str, amount: int, ts: float = T0 + 1) -> WalletEvent:
    return WalletEvent(event_id, kind, player, amount, ts)


def test_minute_totals_add_up_and_ggr_is_bets_minus_wins_minus_refunds() -> None:
    summary = summarize(
        [
            _event("a:1", "bet", "p1", -500),
            _event("a:2", "bet", "p2", -300),
            _event("a:3", "win", "p1", 900),
            _event("a:4", "rollback", "p2", 300),
            _event("payments:d1", "deposit", "p3", 2_000),
            _event("payments:w1", "withdrawal", "p3", -700),
            _event("a:5", "bet", "p1", -100, ts=T0 + 61),
        ]
    )
    first = summary.minutes[M0]
    assert (first.bets, first.bet_count, first.wins, first.win_count) == (800, 2, 900, 1)
    assert (first.refunds, first.deposits, first.withdrawals) == (300, 2_000, 700)
    assert first.ggr == 800 - 900 - 300
    assert summary.minutes[M1].bets == 100 and summary.minutes[M1].ggr == 100
    assert summary.players == {(M0, "p1"), (M0, "p2"), (M1, "p1")}


def test_a_repeated_event_id_counts_once_within_a_batch() -> None:
    events = [_event("a:1", "bet", "p1", -500)] * 3
    assert summarize(events).minutes[M0].bets == 500


def test_totals_add_field_by_field() -> None:
    total = MinuteTotals(bets=5, wins=2, active_players=1) + MinuteTotals(bets=1, refunds=1)
    assert total == MinuteTotals(bets=6, wins=2, refunds=1, active_players=1)
    assert total.ggr == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"event_id": "x", "type": "bet", "player_id": "p1", "amount": "ten", "ts": "1"},
        {"event_id": "x", "type": "jackpot", "player_id": "p1", "amount": "1", "ts": "1"},
        {"event_id": "", "type": "bet", "player_id": "p1", "amount": "1", "ts": "1"},
        {"type": "bet", "player_id": "p1"},
    ],
)
def test_unusable_events_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(BadEvent):
        WalletEvent.parse(fields)


def _publish_bet(stream: FakeStream, n: int, player: str, amount: int, ts: float = T0 + 5) -> None:
    stream.publish(
        event_id=f"aurora:b{n}", type="bet", player_id=player, amount=-amount, ts=ts, round_id="r"
    )


def test_batches_add_up_and_players_count_once_per_minute_across_batches() -> None:
    tables, stream = Tables(), FakeStream()
    consumer = EventConsumer(
        stream, lambda: FakeUnitOfWork(tables), ConsumerConfig(consumer="c", batch=2)
    )
    for n, player in enumerate(["p1", "p2", "p1", "p3", "p1"]):
        _publish_bet(stream, n, player, 100)
    stream.publish(event_id="aurora:w1", type="win", player_id="p9", amount=250, ts=T0 + 9)
    stream.publish(event_id="broken", type="bet", player_id="p1", amount="x", ts=T0)
    while asyncio.run(consumer.step()).read:
        pass
    minute = tables.minutes[M0]
    assert (minute.bets, minute.bet_count, minute.wins, minute.ggr) == (500, 5, 250, 250)
    assert minute.active_players == 3  # p1, p2, p3; the winner p9 did not bet
    assert stream.pending == {} and len(stream.acked) == 7


def test_a_batch_delivered_again_after_a_crash_is_not_counted_twice() -> None:
    tables, stream = Tables(), FakeStream()
    for n in range(3):
        _publish_bet(stream, n, f"p{n}", 100)
    entries = asyncio.run(stream.read("c", 10, 0))
    asyncio.run(count_events(lambda: FakeUnitOfWork(tables), entries))  # committed, not acked
    again = asyncio.run(count_events(lambda: FakeUnitOfWork(tables), entries))
    assert (again.counted, again.duplicates) == (0, 3)
    assert tables.minutes[M0].bets == 300 and tables.minutes[M0].active_players == 3


def test_nothing_is_acknowledged_when_the_database_is_down() -> None:
    tables, stream, clock = Tables(down=True), FakeStream(), FakeClock()
    config = ConsumerConfig(consumer="c")
    consumer = EventConsumer(stream, lambda: FakeUnitOfWork(tables), config, clock=clock)
    _publish_bet(stream, 1, "p1", 100)

    async def run_briefly() -> None:
        task = asyncio.create_task(consumer.run())
        await until(lambda: clock.sleeping)  # the batch failed: backing off
        assert stream.acked == [] and len(stream.pending) == 1
        tables.down = False
        await clock.advance(config.backoff_max_s)  # the longest first back-off
        await until(lambda: stream.acked)  # it retries its own pending entry
        consumer.stop()
        await asyncio.wait_for(task, 2)

    asyncio.run(run_briefly())
    assert stream.acked == ["1-0"] and tables.minutes[M0].bets == 100


def test_the_window_starts_n_minus_one_minutes_before_the_current_minute() -> None:
    assert window_start(T0 + 59, 1) == M0
    assert window_start(T0 + 60, 2) == M0
