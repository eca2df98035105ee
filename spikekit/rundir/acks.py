"""``acked_transactions.jsonl`` and ``unacked_transactions.jsonl``: the load engine's
records of wallet-affecting requests, and each worker's own files under ``load/``.

One line per record (:class:`Ack`, fields in the documented order). Each worker appends to
its own ``load/acks-worker-N.jsonl`` and ``load/unacked-worker-N.jsonl`` (:class:`AckLog`,
flushed every second); the runner merges them by time into the run directory at the end
(:func:`merge_ack_files`), and salvage does the same after a kill
(:func:`recover_merged`): a last line torn by the kill is not a record.
:func:`players_in` reads the players of a worker's files (the audit of a lost worker).
Pure Python: this module runs in the workers.
"""

from __future__ import annotations

import functools
import heapq
import json
import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO, Any

from spikekit.rundir.files import create_only
from spikekit.rundir.jsonl import complete_lines
from spikekit.rundir.layout import (
    ACKED,
    UNACKED,
    WORKER_ACKS,
    WORKER_UNACKED,
    glob_of,
    unacked_path,
)

__all__ = [
    "Ack",
    "AckKind",
    "AckLog",
    "merge_ack_files",
    "merge_workers",
    "players_in",
    "recover_merged",
    "unacked_path",
]

#: Compact JSON, built once (``json.dumps`` with arguments builds an encoder per call).
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
#: A JSON string literal, escaped as ``json.dumps`` does (ASCII only).
_STR = encode_basestring_ascii
#: merged file ← the workers' files (glob relative to the run directory)
MERGED = ((ACKED, glob_of(WORKER_ACKS)), (UNACKED, glob_of(WORKER_UNACKED)))


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
    for line in complete_lines(handle):  # a torn last line is not an acknowledgement
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


def merge_workers(run_dir: Path, name: str, pattern: str) -> int:
    """The runner's merge at the end: ``pattern``'s files into ``name``; the lines."""
    return merge_ack_files(sorted(run_dir.glob(pattern)), run_dir / name)


def recover_merged(run_dir: Path) -> list[tuple[str, str]]:
    """Recovery after a kill: each merged file that is missing, from the workers' files
    (created only, never replacing one). Returns (file, pattern) of those created."""
    rebuilt = []
    for name, pattern in MERGED:
        sources = sorted(run_dir.glob(pattern))
        if not sources or (run_dir / name).exists():
            continue
        if create_only(run_dir / name, functools.partial(merge_ack_files, sources)):
            rebuilt.append((name, pattern))
    return rebuilt


def players_in(paths: Sequence[Path]) -> set[str]:
    """The player ids of JSON-lines ack files (a torn or unreadable line is skipped)."""
    players: set[str] = set()
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                players.add(str(json.loads(line)["player_id"]))
            except (ValueError, KeyError, TypeError):
                continue
    return players
