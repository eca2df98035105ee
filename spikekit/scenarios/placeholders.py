"""``${name}`` placeholders in the declarative journeys' paths, headers and bodies.

Scenario files are untrusted, so this is substitution and nothing more: a placeholder is
``${`` + a name (``[A-Za-z_][A-Za-z0-9_]*``) + ``}``; ``$$`` is a literal ``$``. There is no
expression, no attribute or item access, no call, no format spec — a name is looked up in
a flat mapping of values and that is all. Anything else after a ``$`` is an error.

- :func:`names_in` lists the names a text uses (the scenario's validation checks that each
  is defined before it is used) and raises :class:`PlaceholderError` on a malformed one.
- :func:`render_text` substitutes them into a string (``str()`` of each value).
- :func:`render_value` walks a JSON value (mappings, lists, scalars): a string that is
  exactly one placeholder becomes the value itself, its type kept (an amount stays an
  integer); any other string is rendered as text; keys are rendered as text.

Pure functions, no I/O: the scenario model validates with them, the players render with
them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from spikekit.errors import ConfigError

_TOKEN = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|)")
_WHOLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

#: What a placeholder may stand for: JSON scalars (a rendered body is sent as JSON).
Value = str | int | float | bool | None


class PlaceholderError(ConfigError, ValueError):
    """A text with a malformed placeholder, or a name without a value (a ValueError too,
    so that pydantic reports it as the field's error)."""


def _check(text: str) -> list[tuple[int, str | None]]:
    """``(offset, name)`` of each ``$`` token (``name`` None for ``$$``)."""
    found: list[tuple[int, str | None]] = []
    for match in _TOKEN.finditer(text):
        if match.group(0) == "$":
            raise PlaceholderError(
                f"'${{name}}' or '$$' at offset {match.start()}, got {text[match.start() :][:12]!r}"
            )
        found.append((match.start(), match.group(1)))
    return found


def names_in(text: str) -> list[str]:
    """The placeholder names of ``text``, in order (repeats kept)."""
    return [name for _, name in _check(text) if name is not None]


def names_in_value(value: object) -> list[str]:
    """The placeholder names of a JSON value's strings and keys."""
    if isinstance(value, str):
        return names_in(value)
    if isinstance(value, Mapping):
        return [n for k, v in value.items() for n in (*names_in(str(k)), *names_in_value(v))]
    if isinstance(value, list | tuple):
        return [n for item in value for n in names_in_value(item)]
    return []


def _lookup(name: str, values: Mapping[str, Value]) -> Value:
    if name not in values:
        raise PlaceholderError(f"no value for ${{{name}}}")
    return values[name]


def render_text(text: str, values: Mapping[str, Value]) -> str:
    """``text`` with every placeholder replaced by ``str(value)``; ``$$`` → ``$``."""
    _check(text)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        value = _lookup(name, values)
        return "" if value is None else str(value)

    return _TOKEN.sub(replace, text)


def render_value(template: Any, values: Mapping[str, Value]) -> Any:
    """A JSON value with its placeholders rendered (see the module docstring)."""
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole is not None:
            return _lookup(whole.group(1), values)
        return render_text(template, values)
    if isinstance(template, Mapping):
        return {render_text(str(k), values): render_value(v, values) for k, v in template.items()}
    if isinstance(template, list | tuple):
        return [render_value(item, values) for item in template]
    return template
