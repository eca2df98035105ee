"""Measured figures kept as JSON files in the package (``capacity.json``, ``scaling.json``):
read one into its pydantic model, or replace one whole. A shared leaf.

Each file's owner names its model and what it is ("a platform capacity figure"); a file
that is absent is None, one that cannot be read or is not that model raises
:class:`~spikekit.errors.ConfigError` naming the file and the fields at fault.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from spikekit.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_figure(path: Path, model: type[M], what: str) -> M | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the document'}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigError(f"{path}: not {what} ({problems})") from None


def write_figure(figure: BaseModel, path: Path) -> Path:
    """Replace ``path`` whole (written beside it, then renamed over)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(figure.model_dump(), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return path
