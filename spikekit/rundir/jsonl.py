"""The one reader of the run directory's JSON-lines files, and its rule for a torn line.

Every JSON-lines file of a run (``journal.jsonl``, ``load/live.jsonl``, the
acknowledgements) is appended one whole line at a time. A process killed mid-write leaves
the last line cut short: a file that does not end in a newline has a *tail*, the
unterminated rest. The rule, for every reader:

- a *complete* line ends in ``"\\n"``; the tail is never a line of its own while a writer
  may still be appending (:class:`Tail`, which holds it back until its newline comes);
- once the writer is gone, a tail is *torn* (skipped) unless it is a whole record;
- in a file read as a whole (:func:`read_records`), the last line that is not a record
  is torn too (a kill or a full disk cut it; a later write may have ended it);
  a bad line before it is the caller's to judge (``bad``: an error, or skipped).

Blank lines are ignored. :func:`complete_lines` streams a large file (the acks, millions
of lines) with the same rule, without reading it whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Generic, TypeVar

from pydantic import ValidationError

T = TypeVar("T")
#: A line (without its newline) to a record; raises ValueError (JSON, pydantic) if it is not.
Parse = Callable[[str], T]


def split_lines(text: str) -> tuple[list[str], str]:
    """The complete lines of ``text`` (newline removed) and its unterminated tail."""
    lines = text.split("\n")
    tail = lines.pop()  # "" when text ends in a newline (or is empty)
    return lines, tail


@dataclass(frozen=True)
class Records(Generic[T]):
    """What :func:`read_records` found."""

    records: list[T]
    #: complete lines before the last that were not records: (1-based number, error)
    bad: list[tuple[int, str]] = field(default_factory=list)
    torn: bool = False  # the last line was cut short (skipped)


def read_records(text: str, parse: Parse[T]) -> Records[T]:
    """Every record of a whole JSON-lines file, by the rule of this module."""
    lines, tail = split_lines(text)
    if tail.strip():
        lines.append(tail)
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    records: list[T] = []
    bad: list[tuple[int, str]] = []
    torn = False
    for index, (number, line) in enumerate(numbered):
        try:
            records.append(parse(line))
        except (ValueError, ValidationError) as error:
            if index == len(numbered) - 1 and (number == len(lines)):
                torn = True  # the last line: cut short by a kill (or a full disk)
            else:
                bad.append((number, str(error)))
    return Records(records, bad, torn)


def json_object(line: str) -> dict[str, object]:
    """``line`` as a JSON object; ValueError if it is not one."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


class Tail(Generic[T]):
    """Reads the complete lines appended to ``path`` since the last call (a live file).

    A line that is not a record is skipped and counted in :attr:`skipped`.
    """

    def __init__(self, path: Path, parse: Parse[T]) -> None:
        self.path = path
        self.parse = parse
        self.skipped = 0
        self._offset = 0
        self._partial = ""

    def read(self) -> list[T]:
        try:
            with self.path.open(encoding="utf-8") as handle:
                handle.seek(self._offset)
                text = handle.read()
                self._offset = handle.tell()
        except FileNotFoundError:
            return []
        lines, self._partial = split_lines(self._partial + text)
        records: list[T] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                records.append(self.parse(line))
            except (ValueError, ValidationError):
                self.skipped += 1
        return records


def complete_lines(handle: IO[str]) -> Iterator[str]:
    """The complete lines of a file opened for reading, newline kept, streamed; stops at
    an unterminated tail (a writer killed mid-line)."""
    for line in handle:
        if not line.endswith("\n"):
            return
        yield line
