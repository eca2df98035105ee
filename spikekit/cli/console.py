"""The only module that imports Rich: every command prints through here.

What is printed into a pipe or a file must read back exactly: Rich wraps at 80 columns
when stdout is not a terminal, so off a terminal nothing goes through Rich's wrapping.
Messages are one line each (``soft_wrap``); :func:`raw` and :func:`print_json` write the
text as is; :func:`code` writes source text verbatim; :func:`table` becomes tab-separated
lines (``# title``, a header, one line per row; a tab or newline in a cell becomes a
space). On a terminal the same calls are highlighted and laid out by Rich.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def is_terminal() -> bool:
    """True when stdout is a terminal (and not a pipe or a file)."""
    return out.is_terminal


def raw(text: str) -> None:
    """Text written to stdout exactly as given (YAML, anything meant to be piped)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def info(message: str) -> None:
    out.print(escape(message), soft_wrap=True)


def progress(message: str) -> None:
    """A progress line on stderr, so that --json output stays clean."""
    err.print(f"[dim]{escape(message)}[/dim]", soft_wrap=True)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True)


def error(message: str) -> None:
    err.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    no_wrap: Sequence[str] = (),
) -> None:
    """A table; the columns named in ``no_wrap`` are never wrapped or cut.

    Off a terminal: tab-separated lines, each row whole on one line.
    """
    if not out.is_terminal:
        lines = [f"# {_cell(title)}", "\t".join(_cell(c) for c in columns)]
        lines += ["\t".join(_cell(c) for c in row) for row in rows]
        raw("\n".join(lines) + "\n")
        return
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column, no_wrap=column in no_wrap, min_width=len(column))
    for row in rows:
        t.add_row(*row)
    out.print(t)


def _cell(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines()) if text else "-"


_TONES = {"good": "bold white on green", "warn": "bold black on yellow", "bad": "bold white on red"}


def banner(title: str, body: str, tone: str = "good") -> None:
    """A highlighted headline (tone: good, warn or bad) followed by a paragraph."""
    out.print(f"[{_TONES.get(tone, 'bold')}] {escape(title)} [/]", soft_wrap=True)
    out.print(escape(body), soft_wrap=True)


def code(text: str, language: str) -> None:
    """Source text (YAML, JSON, …), highlighted on a terminal, verbatim otherwise."""
    if not out.is_terminal:
        raw(text if text.endswith("\n") else text + "\n")
        return
    syntax = Syntax(
        text.rstrip("\n"), language, theme="ansi_dark", background_color="default", word_wrap=True
    )
    out.print(syntax)


class Dashboard:
    """The live view of a run: a table redrawn each second on a terminal; elsewhere (CI
    logs) one plain line every ``every_s`` seconds so the log stays readable."""

    def __init__(self, title: str, every_s: int = 10) -> None:
        self.title = title
        self.every_s = every_s
        self.events: list[str] = []
        self._live: Live | None = None
        self._last_line = -every_s

    def __enter__(self) -> Dashboard:
        if out.is_terminal:
            self._live = Live(Text(self.title), console=out, refresh_per_second=4)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def event(self, text: str) -> None:
        self.events = [*self.events[-5:], text]
        if self._live is None:
            out.print(escape(text), soft_wrap=True)

    def update(self, t: int, cells: Sequence[tuple[str, str]]) -> None:
        if self._live is not None:
            grid = Table(title=self.title, title_justify="left", show_header=False, box=None)
            grid.add_column(style="dim")
            grid.add_column()
            for name, value in cells:
                grid.add_row(name, value)
            for text in self.events:
                grid.add_row("", Text(text, style="yellow"))
            self._live.update(grid)
        elif t - self._last_line >= self.every_s:
            self._last_line = t
            line = "  ".join(f"{name} {value}" for name, value in cells)
            out.print(escape(line), soft_wrap=True)
