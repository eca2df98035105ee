"""A payment a platform of the user's own accepted and then declined: a ``declined`` row of
its ledger export, excused by the audit as the bundled platform's payments export is."""

from __future__ import annotations

import pandas as pd

from spikekit.analysis.audit import CheckStatus, reconcile
from spikekit.run.ledger_source import normalise, split_declined
from spikekit.scenarios.ledger import FileLedger

ROWS = [
    {"tx_id": "dep-1", "kind": "deposit", "player_id": "p1", "amount": 5000},
    {"tx_id": "dep-2", "kind": "declined", "player_id": "p2", "amount": 2000},
    {"tx_id": "bet-1", "kind": "bet", "player_id": "p1", "amount": 50},
]
ACKED = pd.DataFrame(
    {
        "tx_id": ["dep-1", "dep-2", "bet-1"],
        "kind": ["deposit", "deposit", "bet"],
        "player_id": ["p1", "p2", "p1"],
        "amount": [5000, 2000, 50],
    }
)


def test_declined_rows_leave_the_ledger_and_excuse_the_acknowledged_payment() -> None:
    table = normalise(ROWS, FileLedger(file="ledger.csv"), "test")
    ledger, declined = split_declined(table)
    assert ledger.column("tx_id").to_pylist() == ["dep-1", "bet-1"]
    assert declined is not None
    assert declined.column("payment_id").to_pylist() == ["dep-2"]
    assert declined.column("status").to_pylist() == ["failed"]

    found = {f.name: f for f in reconcile(ACKED, None, ledger.to_pandas(), declined.to_pandas())}
    assert found["acked_applied"].status is CheckStatus.PASSED
    assert "1 accepted payments ended declined" in found["acked_applied"].detail
    assert found["nothing_unrequested"].status is CheckStatus.PASSED
    # without the declined row the same acknowledged deposit is missing from the ledger
    [missing] = [f for f in reconcile(ACKED, None, ledger.to_pandas()) if f.name == "acked_applied"]
    assert missing.status is CheckStatus.FAILED and missing.offending_ids == ("dep-2",)


def test_a_ledger_without_declined_rows_is_left_as_it_is() -> None:
    table = normalise(ROWS[:1], FileLedger(file="ledger.csv"), "test")
    ledger, declined = split_declined(table)
    assert declined is None and ledger.equals(table)
