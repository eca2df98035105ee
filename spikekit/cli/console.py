"""The only module that imports Rich: every command prints through here."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
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


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*row)
    out.print(t)
