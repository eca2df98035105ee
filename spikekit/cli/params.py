"""Parsers of option values: every bad value is refused before anything starts.

Each parser is a small callable object given to ``typer.Option(parser=...)``; a bad
value raises :class:`typer.BadParameter`, which Typer prints as ``Invalid value for
'--scale': -1: expected a number > 0 and at most 100`` and exits with code 2. The
objects keep their rule as data (``Number.min`` ...), so that a test can enumerate the
CLI's options and feed each one a value its rule refuses.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import typer

from spikekit.errors import ConfigError
from spikekit.scenarios.durations import parse_duration

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z_.:-]+)$")


def _fail(value: object, expected: str) -> typer.BadParameter:
    return typer.BadParameter(f"{value!r}: expected {expected}")


@dataclass(frozen=True)
class Number:
    """A finite int or float, optionally bounded (``min_open``: strictly above ``min``)."""

    kind: type[int] | type[float] = float
    min: float | None = None
    max: float | None = None
    min_open: bool = False

    @property
    def expected(self) -> str:
        noun = "a whole number" if self.kind is int else "a number"
        bounds = []
        if self.min is not None:
            bounds.append(f"{'>' if self.min_open else '>='} {self.min:g}")
        if self.max is not None:
            bounds.append(f"<= {self.max:g}")
        return " ".join([noun, " and ".join(bounds)]).strip()

    def __call__(self, value: str | float) -> float:
        try:
            number = self.kind(value)  # int("1.5") and float("x") raise ValueError
        except (TypeError, ValueError):
            raise _fail(value, self.expected) from None
        if not math.isfinite(number):
            raise _fail(value, self.expected)
        low = self.min is not None and (number <= self.min if self.min_open else number < self.min)
        if low or (self.max is not None and number > self.max):
            raise _fail(value, self.expected)
        return number


def path_problem(path: Path, want: Literal["folder", "file"]) -> str | None:
    """Why ``path`` cannot be the folder (or the file) a command will create or use."""
    try:
        if path.exists():
            is_dir = path.is_dir()
            if want == "folder" and not is_dir:
                return "it is a file"
            if want == "file" and is_dir:
                return "it is a folder"
            return None
        for parent in path.absolute().parents:
            if parent.exists():
                if not stat.S_ISDIR(parent.stat().st_mode):
                    return f"{parent} is a file, not a folder"
                return None
    except OSError as error:  # a name too long, a loop of links ...
        return error.strerror or str(error)
    return None


@dataclass(frozen=True)
class PathOf:
    """A folder or a file path; refused when it cannot be one (under a regular file ...).

    Writability is checked where the command writes (:func:`probe_folder`).
    """

    want: Literal["folder", "file"] = "folder"

    @property
    def expected(self) -> str:
        return f"a {self.want} path"

    def __call__(self, value: str | os.PathLike[str]) -> Path:
        text = os.fspath(value)
        if not text or "\0" in text:
            raise _fail(text, self.expected)
        path = Path(text)
        problem = path_problem(path, self.want)
        if problem:
            raise _fail(text, f"{self.expected}; {problem}")
        return path


@dataclass(frozen=True)
class Url:
    """An ``http://`` or ``https://`` URL with a host."""

    expected: str = "an http:// or https:// URL with a host"

    def __call__(self, value: str) -> str:
        try:
            parts = urlsplit(value)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            _ = parts.port  # raises ValueError on a port out of range
        except ValueError:
            ok = False
        if not ok or any(c.isspace() for c in value):
            raise _fail(value, self.expected)
        return value


@dataclass(frozen=True)
class Host:
    """A host name or an IP address (no scheme, no path)."""

    expected: str = "a host name or an IP address"

    def __call__(self, value: str) -> str:
        if not _HOST.match(value.strip()):
            raise _fail(value, self.expected)
        return value.strip()


@dataclass(frozen=True)
class Dsn:
    """A PostgreSQL connection URL."""

    expected: str = "a postgresql:// URL"

    def __call__(self, value: str) -> str:
        if urlsplit(value).scheme not in ("postgres", "postgresql") or any(
            c.isspace() for c in value
        ):
            raise _fail(value, self.expected)
        return value


@dataclass(frozen=True)
class Duration:
    """A duration such as ``30s`` or ``2m``, more than 0."""

    expected: str = "a duration > 0 such as 30s or 2m"

    def __call__(self, value: str) -> str:
        try:
            seconds = parse_duration(value)
        except (TypeError, ValueError):
            raise _fail(value, self.expected) from None
        if not seconds > 0 or not math.isfinite(seconds):
            raise _fail(value, self.expected)
        return value


@dataclass(frozen=True)
class KeyValue:
    """``KEY=VALUE`` (``count``: VALUE a whole number >= 1)."""

    example: str = "KEY=VALUE"
    count: bool = False

    @property
    def expected(self) -> str:
        return self.example

    def __call__(self, value: str) -> str:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or (self.count and not (rest.isdigit() and int(rest) >= 1)):
            raise _fail(value, self.example)
        return value


@dataclass(frozen=True)
class Replicas:
    """``SERVICE=COUNT[,SERVICE=COUNT...]``: known services, each count in ``1..max``."""

    services: tuple[str, ...]
    max: int = 16

    @property
    def expected(self) -> str:
        return f"SERVICE=COUNT[,SERVICE=COUNT...] with COUNT 1..{self.max}, e.g. gateway=3,auth=2"

    def parse(self, value: str) -> dict[str, int]:
        """The counts of one value, or :class:`typer.BadParameter`."""
        counts: dict[str, int] = {}
        for item in value.split(","):
            name, sep, count = item.strip().partition("=")
            name = name.strip()
            if not sep or not count.strip().isdigit() or not 1 <= int(count) <= self.max:
                raise _fail(value, self.expected)
            if name not in self.services:
                known = ", ".join(self.services)
                raise _fail(value, f"{self.expected}; no service {name!r} (services: {known})")
            counts[name] = int(count)
        return counts

    def __call__(self, value: str) -> str:
        self.parse(value)
        return value


@dataclass(frozen=True)
class Workers:
    """A number of processes (>= 1) or ``auto``."""

    expected: str = "a number of processes >= 1 or 'auto'"

    def __call__(self, value: str) -> str:
        if value != "auto" and not (value.isdigit() and int(value) >= 1):
            raise _fail(value, self.expected)
        return value


PORT = Number(int, min=1, max=65535)


def probe_folder(path: Path, option: str, *, keep: bool) -> None:
    """Make sure ``path`` is a folder this process can write into, or raise ConfigError
    naming ``option``. Missing folders are created; with ``keep=False`` (a dry run) the
    ones created here are removed again, so that nothing is left behind."""
    created: list[Path] = []
    try:
        missing = [p for p in (path, *path.parents) if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir()
            created.append(folder)
        if not path.is_dir():
            raise NotADirectoryError(20, "not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(13, "not writable")
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigError(
            f"{option} {path}: expected a folder that can be created and written ({reason})"
        ) from None
    finally:
        if not keep:
            for folder in reversed(created):
                folder.rmdir()
