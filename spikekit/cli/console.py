"""The only module that imports Rich: every command prints through here."""

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


def info(message: str) -> None:
    out.print(escape(message))


def progress(message: str) -> None:
    """A progress line on stderr, so that --json output stays clean."""
    err.print(f"[dim]{escape(message)}[/dim]")


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}")


def error(message: str) -> None:
    err.print(f"[bold red]error:[/bold red] {escape(message)}")


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
    """A table; the columns named in ``no_wrap`` are never wrapped or cut."""
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column, no_wrap=column in no_wrap, min_width=len(column))
    for row in rows:
        t.add_row(*row)
    out.print(t)


_TONES = {"good": "bold white on green", "warn": "bold black on yellow", "bad": "bold white on red"}


def banner(title: str, body: str, tone: str = "good") -> None:
    """A highlighted headline (tone: good, warn or bad) followed by a paragraph."""
    out.print(f"[{_TONES.get(tone, 'bold')}] {escape(title)} [/]")
    out.print(escape(body))


def code(text: str, language: str) -> None:
    """Source text (YAML, JSON, …), highlighted on a terminal, verbatim otherwise."""
    out.print(Syntax(text.rstrip("\n"), language, theme="ansi_dark", background_color="default"))


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
            out.print(escape(text))

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
            out.print(escape("  ".join(f"{name} {value}" for name, value in cells)))
