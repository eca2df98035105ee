"""What a declarative step captures and acknowledges, and what a journey's header may hold."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from spikekit.load.client import headers_block
from spikekit.load.journey_values import as_cents, captured, rendered, transaction_ack
from spikekit.rundir.acks import AckKind
from spikekit.scenarios.journeys import Capture, Transaction


@dataclass
class Headers:
    values: dict[str, str]

    def header(self, name: str) -> str | None:
        return self.values.get(name.lower())


BODY = {"wager": {"id": "wa_7", "stake": {"cents": 150}}, "items": [{"id": 3}], "n": None}


@pytest.mark.parametrize(
    ("capture", "value"),
    [
        ({"json": "wager.id"}, "wa_7"),
        ({"json": "wager.stake.cents"}, 150),
        ({"json": "items.0.id"}, 3),
        ({"json": "items.1.id"}, None),  # out of range
        ({"json": "wager"}, None),  # not a scalar
        ({"json": "wager.id.more"}, None),
        ({"json": "n"}, None),
        ({"header": "X-Session-Token"}, "tok"),
        ({"header": "X-Other"}, None),
    ],
)
def test_a_capture_reads_a_scalar_by_path_or_header(capture: dict[str, str], value: object) -> None:
    answer = Headers({"x-session-token": "tok"})
    assert captured(Capture.model_validate(capture), answer, BODY) == value


@pytest.mark.parametrize(
    ("value", "cents"),
    [(12, 12), ("12", 12), (12.0, 12), (12.5, None), ("1.5", None), (True, None), ("", None)],
)
def test_amounts_are_integer_minor_units_or_nothing(value: object, cents: int | None) -> None:
    assert as_cents(value) == cents  # type: ignore[arg-type]


def test_an_acknowledged_transaction_becomes_an_ack() -> None:
    spec = Transaction(kind="bet", tx_id="${wager}", amount="${stake}", balance_after="${b}")
    ack = transaction_ack(5.0, "p000001", spec, {"wager": "wa_7", "stake": "150", "b": 850})
    assert ack is not None
    assert (ack.kind, ack.player_id, ack.tx_id, ack.amount, ack.balance_after) == (
        AckKind.BET,
        "p000001",
        "wa_7",
        150,
        850,
    )
    # the answer did not give the id (or an amount): no ack, never a made-up one
    assert transaction_ack(5.0, "p1", spec, {"stake": 150, "b": 1}) is None
    assert transaction_ack(5.0, "p1", spec, {"wager": "w", "stake": "lots", "b": 1}) is None
    assert rendered("${missing}", {}) is None


def test_a_journey_header_cannot_smuggle_another_header() -> None:
    assert headers_block({"X-Token": "abc"}) == "X-Token: abc\r\n"
    assert headers_block(None) == ""
    for bad in ({"X-Token": "abc\r\nX-Admin: 1"}, {"X-Token": "a\nb"}, {"X:Y": "1"}):
        with pytest.raises(ValueError):
            headers_block(bad)
