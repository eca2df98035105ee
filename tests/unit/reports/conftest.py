from __future__ import annotations

from pathlib import Path

import pytest

from spikekit.analysis.synthetic import Disturbance, SyntheticFault, SyntheticRun, tx_id

FAULTS = (
    SyntheticFault("provider-a-down", start_s=100.0, end_s=130.0, target="provider-a"),
    SyntheticFault("db-locks", start_s=200.0, end_s=220.0, fault="db_lock", target="postgres"),
)


def degraded_spec() -> SyntheticRun:
    """Two faults, both breach and recover: DEGRADED, exit 0."""
    return SyntheticRun(faults=FAULTS, disturbances=(Disturbance(105, 140, latency_factor=10),))


def failed_spec() -> SyntheticRun:
    """The second fault never recovers and the ledger lost a bet and doubled another: FAILED."""
    return SyntheticRun(
        faults=FAULTS,
        disturbances=(
            Disturbance(105, 140, latency_factor=10),
            Disturbance(205, 300, error_rate=0.3),
        ),
        lost_tx_ids=(tx_id(1),),
        duplicated_tx_ids=(tx_id(8),),
    )


@pytest.fixture
def run_root(tmp_path: Path) -> Path:
    return tmp_path


BLAST_FAULT = SyntheticFault("wallet-slow", start_s=100.0, end_s=130.0, target="wallet")


def cascading_spec() -> SyntheticRun:
    """One fault slows three endpoints (lobby, balance, bet): its blast radius is 3."""
    return SyntheticRun(
        faults=(BLAST_FAULT,),
        disturbances=tuple(
            Disturbance(105, 135, endpoint=name, latency_factor=10.0)
            for name in ("lobby", "balance", "wallet/bet")
        ),
    )


def contained_spec() -> SyntheticRun:
    """The same fault only fails bets, fast: its blast radius is 1."""
    return SyntheticRun(
        faults=(BLAST_FAULT,),
        disturbances=(Disturbance(105, 130, endpoint="wallet/bet", error_rate=0.3),),
    )
