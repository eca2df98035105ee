"""The relay's wire form of an event: the stream fields, flattened for one XADD each."""

from __future__ import annotations

import json

from spikekit.reference_platform.wallet.adapters.outbox import flat_fields, stream_fields


def test_an_event_flattens_to_its_fields_in_order_with_empty_values_kept() -> None:
    payload = json.dumps({"event_id": "payments:k1", "round_id": "", "amount": -5, "ts": 1.25})
    flat = flat_fields(payload)
    assert flat == "event_id\npayments:k1\nround_id\n\namount\n-5\nts\n1.25\n"
    tokens = flat.split("\n")[:-1]
    assert dict(zip(tokens[::2], tokens[1::2], strict=True)) == stream_fields(payload)


def test_a_value_with_a_newline_is_not_flattened() -> None:
    assert flat_fields(json.dumps({"tx_id": "a\nb"})) is None
