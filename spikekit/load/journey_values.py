"""What a declarative journey's step takes from an answer and acknowledges (no Locust).

:func:`captured` reads a capture (a header, or a dotted path into the JSON body: keys and
list indexes, nothing evaluated); :func:`as_cents` turns a rendered value into integer
minor units or refuses it; :func:`transaction_ack` builds the ack of an acknowledged
transaction step. Pure functions: the journey players call them, unit tests check them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from spikekit.rundir.acks import Ack, AckKind
from spikekit.scenarios.journeys import Capture, Transaction
from spikekit.scenarios.placeholders import PlaceholderError, Value, render_text, render_value

_INTEGER = re.compile(r"^-?[0-9]{1,18}$")


class Headed(Protocol):
    """An answer whose headers can be read (:class:`~spikekit.load.personas.Answer`)."""

    def header(self, name: str) -> str | None: ...


def captured(capture: Capture, answer: Headed, body: Mapping[str, Any]) -> Value | None:
    """The value ``capture`` names in an answer (None when it is not there or not a scalar)."""
    if capture.header is not None:
        return answer.header(capture.header)
    node: Any = body
    for part in (capture.json_path or "").split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, str | int | float | bool) else None


def as_cents(value: Value) -> int | None:
    """An integer amount from a rendered value (``12``, ``"12"``, ``12.0``); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    return None


def transaction_ack(
    ts: float, player_id: str, spec: Transaction, values: Mapping[str, Value]
) -> Ack | None:
    """The ack of an acknowledged transaction step; None when its values are not there."""
    try:
        tx_id = render_text(spec.tx_id, values)
        amount = as_cents(render_value(spec.amount, values))
        balance = None
        if spec.balance_after is not None:
            balance = as_cents(render_value(spec.balance_after, values))
    except PlaceholderError:
        return None
    if not tx_id or amount is None:
        return None
    return Ack(ts, AckKind(spec.kind.value), player_id, tx_id, abs(amount), balance)


def rendered(template: str | int, values: Mapping[str, Value]) -> Value:
    """``template`` rendered, or None when a value is missing."""
    try:
        value: Value = render_value(template, values)
    except PlaceholderError:
        return None
    return value
