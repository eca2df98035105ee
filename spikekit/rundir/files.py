"""How the run directory's files are put on disk: whole or not at all.

:func:`replace_atomically` writes beside the file and renames it over (a reader never sees
half a file; a kill leaves the partial file, never a torn one). :func:`create_only` is
salvage's: it creates a file that is missing and never replaces one that appeared
meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from spikekit.errors import ConfigError
from spikekit.rundir.layout import PARTIAL, SALVAGE, with_suffix

Write = Callable[[Path], object]


def replace_atomically(path: Path, write: Write, suffix: str = PARTIAL) -> None:
    """``write(partial)``, then rename it to ``path`` (the partial file is removed on error)."""
    partial = with_suffix(path, suffix)
    try:
        write(partial)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str, suffix: str = PARTIAL) -> None:
    replace_atomically(path, lambda p: p.write_text(text, encoding="utf-8"), suffix)


def create_only(path: Path, write: Write) -> bool:
    """Write ``path`` through a partial file and a hard link: never replaces a file that
    appeared meanwhile. Returns whether it was created."""
    partial = with_suffix(path, SALVAGE)
    try:
        write(partial)
        os.link(partial, path)
    except FileExistsError:
        return False
    finally:
        partial.unlink(missing_ok=True)
    return True


def need(path: Path) -> Path:
    """``path``, or :class:`ConfigError` naming it as missing."""
    if not path.is_file():
        raise ConfigError(f"{path}: missing (not a spikekit run directory?)")
    return path


def invalid(path: Path | str, error: ValidationError) -> ConfigError:
    """A :class:`ConfigError` naming the file and every field path that is wrong."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
    )
    return ConfigError(f"{path}: invalid: {problems}")
