"""The only module that imports Rich: every command prints through here."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

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
