from __future__ import annotations

import json
from pathlib import Path

import pytest

from spikekit.load.acks import payment_ack, round_acks
from spikekit.rundir.acks import Ack, AckKind, AckLog, merge_ack_files

ROUND = {
    "round_id": "r1",
    "provider": "nova",
    "bet": 100,
    "win": 250,
    "balance": 10_150,
    "bet_tx_id": "b1",
    "win_tx_id": "w1",
}


def test_ack_line_has_the_documented_fields_in_order() -> None:
    line = Ack(12.5, AckKind.DEPOSIT, "p000001", "d1", 500).to_line()
    assert line.endswith("\n")
    record = json.loads(line)
    assert list(record) == ["ts", "kind", "player_id", "tx_id", "amount", "balance_after"]
    assert record == {
        "ts": 12.5,
        "kind": "deposit",
        "player_id": "p000001",
        "tx_id": "d1",
        "amount": 500,
        "balance_after": None,
    }


def test_a_won_round_is_a_bet_and_a_win_with_provider_prefixed_ids() -> None:
    bet, win = round_acks(1.0, "p000002", ROUND)
    assert (bet.kind, bet.tx_id, bet.amount, bet.balance_after) == ("bet", "nova:b1", 100, 10_150)
    assert (win.kind, win.tx_id, win.amount, win.balance_after) == ("win", "nova:w1", 250, 10_150)


def test_a_lost_round_is_only_a_bet_and_malformed_is_nothing() -> None:
    assert [a.kind for a in round_acks(1.0, "p", {**ROUND, "win": 0})] == ["bet"]
    assert round_acks(1.0, "p", {"provider": "x"}) == []


def test_payment_acks_use_the_payment_id() -> None:
    deposit = payment_ack(1.0, AckKind.DEPOSIT, "p", {"deposit_id": "d9"}, 700)
    withdrawal = payment_ack(1.0, AckKind.WITHDRAWAL, "p", {"withdrawal_id": "x3"}, 50)
    assert deposit is not None and (deposit.tx_id, deposit.amount) == ("d9", 700)
    assert withdrawal is not None and withdrawal.kind == "withdrawal"
    assert payment_ack(1.0, AckKind.DEPOSIT, "p", {}, 700) is None


def test_worker_files_merge_in_time_order_and_torn_lines_are_dropped(tmp_path: Path) -> None:
    a, b = tmp_path / "acks-worker-0.jsonl", tmp_path / "acks-worker-1.jsonl"
    log = AckLog(a)
    log.write([Ack(float(t), AckKind.BET, "p1", f"a{t}", 1) for t in (1, 4, 6)])
    log.close()
    log = AckLog(b)
    log.write([Ack(float(t), AckKind.BET, "p2", f"b{t}", 1) for t in (2, 3, 5)])
    log.close()
    with b.open("a") as handle:
        handle.write('{"ts": 7, "kind": "bet"')  # killed mid-write
    out = tmp_path / "acked_transactions.jsonl"
    assert merge_ack_files([a, b, tmp_path / "missing.jsonl"], out) == 6
    ids = [json.loads(line)["tx_id"] for line in out.read_text().splitlines()]
    assert ids == ["a1", "b2", "b3", "a4", "b5", "a6"]


def test_unanswered_requests_go_to_their_own_file() -> None:
    from pathlib import Path

    from spikekit.rundir.acks import unacked_path

    assert unacked_path(Path("/r/load/acks-worker-3.jsonl")) == Path(
        "/r/load/unacked-worker-3.jsonl"
    )
    assert unacked_path(Path("mine.jsonl")) == Path("unacked-mine.jsonl")


@pytest.mark.parametrize(
    "ack",
    [
        Ack(1764240000.123456789, AckKind.BET, "p000001", "provider-aurora:b-1", 100, 5000),
        Ack(12.5, AckKind.DEPOSIT, "p000002", "d1", 500),
        Ack(3, AckKind.WIN, 'p"quoted\\', "x:\n\u2603\u00e9", 0, -5),
        Ack(1e-7, AckKind.WITHDRAWAL, "p", "", 10**20, 0),
        Ack(float("nan"), AckKind.BET, "p", "t", 1),
        Ack(float("inf"), AckKind.BET, "p", "t", 1, 2),
    ],
)
def test_ack_line_is_byte_for_byte_what_json_dumps_writes(ack: Ack) -> None:
    record = {
        "ts": round(ack.ts, 6),
        "kind": ack.kind.value,
        "player_id": ack.player_id,
        "tx_id": ack.tx_id,
        "amount": ack.amount,
        "balance_after": ack.balance_after,
    }
    assert ack.to_line() == json.dumps(record, separators=(",", ":")) + "\n"


def test_a_full_disk_is_reported_not_raised_into_the_players() -> None:
    """/dev/full answers every write with ENOSPC, as a full run folder does."""
    log = AckLog(Path("/dev/full"))
    ack = Ack(1.0, AckKind.BET, "p000001", "provider-a:1", 100)
    log.write([ack] * 3)
    log.flush()  # the buffer reaches the device here
    assert log.error is not None and "No space left" in log.error
    log.write([ack, ack])
    assert log.lost == 2
    log.close()
