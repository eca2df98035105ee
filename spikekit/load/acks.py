"""The client-side log of acknowledged wallet transactions (``acked_transactions.jsonl``).

What is logged follows docs/gateway-api.md ("What the load engine logs"): a ``202`` deposit
or withdrawal, and a ``200`` round as a ``bet`` plus, when it won, a ``win``. Each worker
appends to its own file (:class:`AckLog`); the runner merges the files by time
(:func:`merge_ack_files`) into the run directory. Pure Python, no Locust.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO, Any

#: Compact JSON, built once (``json.dumps`` with arguments builds an encoder per call).
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
#: A JSON string literal, escaped as ``json.dumps`` does (ASCII only).
_STR = encode_basestring_ascii


class AckKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    BET = "bet"
    WIN = "win"


@dataclass(frozen=True)
class Ack:
    """One line of ``acked_transactions.jsonl``, fields in the documented order."""

    ts: float
    kind: AckKind
    player_id: str
    tx_id: str
    amount: int
    balance_after: int | None = None

    def to_line(self) -> str:
        """The JSON line, byte for byte what ``json.dumps(record, separators=(",", ":"))``
        writes; formatted directly, since it runs for every acknowledged round on the
        players' hot path (``dataclasses.asdict`` + ``json.dumps`` cost 2.5x as much)."""
        ts = round(self.ts, 6)
        if not math.isfinite(ts):  # JSON's NaN / Infinity spelling, not repr()'s
            return _ENCODE({**self._fields(), "ts": ts}) + "\n"
        balance = "null" if self.balance_after is None else repr(int(self.balance_after))
        return (
            f'{{"ts":{ts!r},"kind":"{self.kind.value}","player_id":{_STR(self.player_id)},'
            f'"tx_id":{_STR(self.tx_id)},"amount":{int(self.amount)!r},"balance_after":{balance}}}\n'
        )

    def _fields(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "kind": self.kind.value,
            "player_id": self.player_id,
            "tx_id": self.tx_id,
            "amount": self.amount,
            "balance_after": self.balance_after,
        }


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


def unacked_path(acks_path: Path) -> Path:
    """``.../acks-worker-0.jsonl`` → ``.../unacked-worker-0.jsonl``."""
    name = acks_path.name
    if name.startswith("acks-"):
        return acks_path.with_name("unacked-" + name.removeprefix("acks-"))
    return acks_path.with_name(f"unacked-{name}")


class AckLog:
    """Appends acks to one file; buffered, flushed by the caller (every second) and on close.

    A write that fails (disk full) is not raised into the players: :attr:`error` says what
    failed and :attr:`lost` counts the acks that never reached the file (the caller
    reports it; the records then have a hole and the run cannot be audited in full).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] | None = path.open("a", encoding="utf-8", buffering=1 << 16)
        self.count = 0
        self.lost = 0
        self.error: str | None = None

    def _failed(self, error: OSError, lost: int) -> None:
        self.lost += lost
        if self.error is None:
            self.error = f"cannot write {self.path}: {error.strerror or error}"

    def write(self, acks: Sequence[Ack]) -> None:
        if self._file is None:
            return
        if self.error is not None:
            self.lost += len(acks)
            return
        try:
            for ack in acks:
                self._file.write(ack.to_line())
        except OSError as error:
            self._failed(error, len(acks))
            return
        self.count += len(acks)

    def flush(self) -> None:
        if self._file is not None and self.error is None:
            try:
                self._file.flush()
            except OSError as error:
                self._failed(error, 0)

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as error:
                self._failed(error, 0)
            self._file = None


def _lines(handle: IO[str]) -> Iterator[tuple[float, str]]:
    for line in handle:
        if not line.endswith("\n"):
            return  # a torn last line (a worker killed mid-write): not an acknowledgement
        try:
            yield float(json.loads(line)["ts"]), line
        except (ValueError, KeyError, TypeError):
            continue


def merge_ack_files(sources: Sequence[Path], destination: Path) -> int:
    """Merge per-worker files (each in time order) into one, by ``ts``; returns the lines."""
    count = 0
    destination.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack, destination.open("w", encoding="utf-8") as out:
        streams = [
            _lines(stack.enter_context(path.open(encoding="utf-8")))
            for path in sources
            if path.is_file()
        ]
        for _, line in heapq.merge(*streams, key=lambda item: item[0]):
            out.write(line)
            count += 1
    return count
