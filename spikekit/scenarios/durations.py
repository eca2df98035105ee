"""Durations in scenario files: ``30s``, ``2m``, ``1m30s``, ``1h``, ``500ms`` or seconds.

:data:`Duration` is a float of seconds once validated, and is written back to YAML in the
same human form (``90.0`` → ``"1m30s"``) so a dumped scenario reads like a written one.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError

_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(
    rf"^(?:(?P<h>{_NUMBER})h)?(?:(?P<m>{_NUMBER})m(?!s))?(?:(?P<s>{_NUMBER})s)?"
    rf"(?:(?P<ms>{_NUMBER})ms)?$"
)
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}

EXPECTED = "a duration like 30s, 2m, 1m30s, 1h, 500ms or a number of seconds"


def parse_duration(value: object) -> float:
    """Seconds from a number or a duration string; raises ``ValueError`` when it is neither."""
    if isinstance(value, bool):
        raise ValueError(f"expected {EXPECTED}, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value.strip().lower())
    else:
        raise ValueError(f"expected {EXPECTED}, got {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"expected a duration of 0 seconds or more, got {value!r}")
    return seconds


def _parse_text(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groupdict().values()):
        raise ValueError(f"expected {EXPECTED}, got {text!r}")
    return sum(float(v) * _UNITS[unit] for unit, v in match.groupdict().items() if v is not None)


def format_duration(seconds: float) -> str:
    """The shortest readable form: ``90`` → ``1m30s``, ``0.5`` → ``500ms``, ``1.25`` → ``1.25s``."""
    if seconds == 0:
        return "0s"
    if seconds != int(seconds):
        millis = seconds * 1000
        if seconds < 1 and millis == int(millis):
            return f"{int(millis)}ms"
        return f"{seconds:g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


def _validate(value: object) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from None


#: Seconds (float), written as ``30s``/``2m``/… in YAML and JSON dumps.
Duration = Annotated[
    float,
    BeforeValidator(_validate),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
