"""Bounded reading of files and values a user hands us: every one is untrusted.

A scenario file is a few KiB with a few hundred YAML nodes nested a handful of levels
deep. A hostile one (a "billion laughs": aliases of aliases of lists) is a few hundred
bytes that expand into billions of nodes, and a deeply nested one overflows the
recursive YAML composer. So before anything is built from a text:

* :func:`read_bounded` reads at most :data:`MAX_FILE_BYTES` (a FIFO or ``/dev/zero``
  cannot make us read forever);
* :func:`check_yaml` walks the YAML *event stream* (an iterative parser, no Python
  objects and no recursion) and counts every node as the constructor would build it,
  an aliased node each time it is reached, with the nesting depth it reaches; it stops
  at the first bound exceeded;
* :func:`safe_load_yaml` is ``yaml.safe_load`` behind :func:`check_yaml`;
* :func:`check_json_depth` bounds the nesting of a JSON text (``json.loads`` recurses).

Every bound exceeded raises :class:`~spikekit.errors.InputLimitError` (a ConfigError:
exit 2) naming the bound. YAML syntax errors are left to the YAML loader's own message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from spikekit.errors import InputLimitError

MAX_FILE_BYTES = 1 << 20  # 1 MiB: a scenario is a few KiB
MAX_JOURNAL_BYTES = 64 << 20  # a chaos journal: a few lines per fault
MAX_NODES = 100_000  # YAML nodes after expanding aliases
MAX_DEPTH = 64  # levels of nesting after expanding aliases

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def size_text(n_bytes: int) -> str:
    """``1 MiB``, ``64 MiB``, ``512 KiB`` or ``100 bytes``."""
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n_bytes >= size and n_bytes % size == 0:
            return f"{n_bytes // size} {unit}"
    return f"{n_bytes:,} bytes"


def read_bounded(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of ``path``, refusing more than ``max_bytes``.

    Raises :class:`InputLimitError` when the file is larger; ``OSError`` and
    ``UnicodeDecodeError`` are the caller's to word.
    """
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputLimitError(
            str(path), "", f"at most {size_text(max_bytes)} (this file is larger)"
        )
    return data.decode("utf-8")


def check_text_size(text: str, source: str, *, max_bytes: int = MAX_FILE_BYTES) -> None:
    """The same bound as :func:`read_bounded`, for a text already in memory."""
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        raise InputLimitError(source, "", f"at most {size_text(max_bytes)} (this text is larger)")


@dataclass
class _Open:
    """A mapping or sequence whose end event has not come yet."""

    anchor: str | None
    nodes_before: int  # the running node count when it started
    depth: int  # its own depth (the root is 1)
    deepest: int = field(default=0)  # the deepest depth reached inside it


def check_yaml(
    text: str, source: str, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH
) -> None:
    """Raise :class:`InputLimitError` when ``text`` would build more than ``max_nodes``
    nodes or nest deeper than ``max_depth`` once its aliases are expanded, or when an
    alias sits inside the node it names (a cycle).

    Cost: one pass over the events, whatever the aliases expand to.
    """
    check_text_size(text, source)
    nodes = 0
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, height) of the node it names
    stack: list[_Open] = []

    def reached(count: int, depth: int, line: int) -> None:
        nonlocal nodes
        nodes += count
        if nodes > max_nodes:
            raise InputLimitError(
                source,
                "",
                f"at most {max_nodes:,} YAML nodes after expanding aliases "
                "(this file expands past that)",
            )
        if depth > max_depth:
            raise InputLimitError(
                source,
                f"line {line}",
                f"at most {max_depth} levels of nesting after expanding aliases "
                "(this file goes deeper)",
            )
        if stack:
            stack[-1].deepest = max(stack[-1].deepest, depth)

    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()
        elif isinstance(event, yaml.ScalarEvent):
            reached(1, len(stack) + 1, line)
            if event.anchor is not None:
                sizes[event.anchor] = (1, 1)
        elif isinstance(event, yaml.AliasEvent):
            if any(frame.anchor == event.anchor for frame in stack):
                raise InputLimitError(
                    source, f"line {line}", "aliases outside the node they name (this is a cycle)"
                )
            count, height = sizes.get(str(event.anchor), (1, 1))  # unknown: YAML says so later
            reached(count, len(stack) + height, line)
        elif isinstance(event, yaml.CollectionStartEvent):
            depth = len(stack) + 1
            reached(1, depth, line)
            stack.append(_Open(event.anchor, nodes - 1, depth, depth))
        elif isinstance(event, yaml.CollectionEndEvent) and stack:
            closed = stack.pop()
            if closed.anchor is not None:
                height = closed.deepest - closed.depth + 1
                sizes[closed.anchor] = (nodes - closed.nodes_before, height)
            if stack:
                stack[-1].deepest = max(stack[-1].deepest, closed.deepest)


def safe_load_yaml(text: str, source: str) -> object:
    """``yaml.safe_load`` of an untrusted text, behind :func:`check_yaml`."""
    check_yaml(text, source)
    return yaml.safe_load(text)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def check_json_depth(text: str, source: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`InputLimitError` when a JSON (or JSON lines) text nests deeper than
    ``max_depth`` (``json.loads`` would hit the recursion limit)."""
    depth = 0
    for char in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth = depth + 1 if char in "[{" else max(depth - 1, 0)
        if depth > max_depth:
            raise InputLimitError(
                source, "", f"JSON nested at most {max_depth} levels deep (this text goes deeper)"
            )
