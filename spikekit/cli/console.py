"""Every command prints through here, with Rich; the one other user of Rich is the live
view of a run (a redrawn ``Live`` region: :mod:`spikekit.cli.live_view`, ``live_frame``).

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
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

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
