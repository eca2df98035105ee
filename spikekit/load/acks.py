"""The client-side log of acknowledged wallet transactions: what the players record.

What is logged follows docs/gateway-api.md ("What the load engine logs"): a ``202`` deposit
or withdrawal, and a ``200`` round as a ``bet`` plus, when it won, a ``win``. The records
and their files are the run directory's (:mod:`spikekit.rundir.acks`). Pure Python, no Locust.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spikekit.rundir.acks import Ack, AckKind


def payment_ack(
    ts: float, kind: AckKind, player_id: str, body: Mapping[str, Any], amount: int
) -> Ack | None:
    """A ``202`` deposit (``deposit_id``) or withdrawal (``withdrawal_id``); None if malformed."""
    key = "deposit_id" if kind is AckKind.DEPOSIT else "withdrawal_id"
    tx_id = body.get(key)
    if tx_id is None:
        return None
    return Ack(ts, kind, player_id, str(tx_id), int(amount))


def round_acks(ts: float, player_id: str, body: Mapping[str, Any]) -> list[Ack]:
    """A ``200`` round: its bet, and its win when ``win > 0``; [] if malformed."""
    try:
        provider = str(body["provider"])
        bet, win = int(body["bet"]), int(body.get("win") or 0)
        balance = body.get("balance")
        balance_after = None if balance is None else int(balance)
        acks = [
            Ack(ts, AckKind.BET, player_id, f"{provider}:{body['bet_tx_id']}", bet, balance_after)
        ]
        if win > 0:
            win_tx = f"{provider}:{body['win_tx_id']}"
            acks.append(Ack(ts, AckKind.WIN, player_id, win_tx, win, balance_after))
    except (KeyError, TypeError, ValueError):
        return []
    return acks


def unacked(ts: float, kind: AckKind, player_id: str, amount: int, count: int = 1) -> list[Ack]:
    """Requests sent without an acknowledgement (failed, timed out, retried): the platform may
    still have applied them. Their id is unknown to the client, so ``tx_id`` is empty; the
    audit allows that many unexplained ledger entries of that kind for that player."""
    return [Ack(ts, kind, player_id, "", int(amount)) for _ in range(count)]
