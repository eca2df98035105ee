"""Bounds on the files a command reads that are not scenarios: run directories, journals.

A run directory or a journal may come from anywhere (a CI artifact, a colleague). Before
a command salvages, reports on or reverts from one, its small text files are read
through :mod:`spikekit.scenarios.untrusted`: bounded in bytes, ``scenario.yaml`` in YAML
nodes and depth, the JSON files in nesting depth. A file past a bound, unreadable or not
UTF-8 raises :class:`~spikekit.errors.ConfigError` (exit 2) naming it. The formats and
their typed readers stay with their owner, :mod:`spikekit.rundir`.
"""

from __future__ import annotations

from pathlib import Path

from spikekit.errors import ConfigError
from spikekit.rundir.layout import AUDIT, JOURNAL, META, SCENARIO
from spikekit.scenarios.untrusted import (
    MAX_FILE_BYTES,
    MAX_JOURNAL_BYTES,
    check_json_depth,
    check_yaml,
    read_bounded,
)


def _read(path: Path, max_bytes: int) -> str:
    try:
        return read_bounded(path, max_bytes=max_bytes)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: expected a UTF-8 text file") from None
    except OSError as error:
        raise ConfigError(f"{path}: unreadable ({error.strerror or error})") from None


def check_json_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> None:
    """A JSON (or JSON lines) file within ``max_bytes`` and the nesting bound."""
    check_json_depth(_read(path, max_bytes), str(path))


def check_yaml_file(path: Path) -> None:
    """A YAML file within the size, node and depth bounds of a scenario."""
    check_yaml(_read(path, MAX_FILE_BYTES), str(path))


def check_run_dir(run_dir: Path) -> None:
    """The small text files of a run directory, those present, within their bounds.

    Missing files are left to the typed reader, which names what is missing.
    """
    if not run_dir.is_dir():
        return
    if (run_dir / SCENARIO).exists():
        check_yaml_file(run_dir / SCENARIO)
    for name, limit in ((META, MAX_FILE_BYTES), (AUDIT, MAX_JOURNAL_BYTES)):
        if (run_dir / name).exists():
            check_json_file(run_dir / name, max_bytes=limit)
    if (run_dir / JOURNAL).exists():
        check_json_file(run_dir / JOURNAL, max_bytes=MAX_JOURNAL_BYTES)
