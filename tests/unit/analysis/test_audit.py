"""The wallet audit reconciles acknowledged transactions with the ledger export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spikekit.analysis.audit import CheckStatus, audit_run
from spikekit.analysis.rundir import load_run
from spikekit.analysis.synthetic import SyntheticRun, tx_id, write_synthetic_run
from spikekit.analysis.verdict import Verdict
from spikekit.rundir.layout import LEDGER

from .conftest import Analyse


def statuses(result: object) -> dict[str, tuple[CheckStatus, tuple[str, ...]]]:
    return {f.name: (f.status, f.offending_ids) for f in result.findings}  # type: ignore[attr-defined]


def test_a_clean_ledger_passes(analysed: Analyse) -> None:
    result = analysed(SyntheticRun())
    assert result.audit.status is CheckStatus.PASSED
    assert all(status is CheckStatus.PASSED for status, _ in statuses(result.audit).values())


def test_catches_a_lost_acknowledged_bet_and_a_duplicate(analysed: Analyse) -> None:
    lost_bet, duplicate = tx_id(1), tx_id(8)  # kinds cycle deposit, bet, win, bet, withdrawal
    result = analysed(SyntheticRun(lost_tx_ids=(lost_bet,), duplicated_tx_ids=(duplicate,)))
    found = statuses(result.audit)
    assert found["acked_applied"] == (CheckStatus.FAILED, (lost_bet,))
    assert found["applied_once"] == (CheckStatus.FAILED, (duplicate,))
    assert found["acked_amounts_match"][0] is CheckStatus.PASSED
    assert result.audit.status is CheckStatus.FAILED
    assert result.verdict.verdict is Verdict.FAILED
    assert result.verdict.exit_code == 1
    assert "acked_applied" in result.verdict.paragraph


def test_catches_an_unrequested_entry(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(unrequested_tx_ids=("ghost-1",)))
    assert statuses(result.audit)["nothing_unrequested"] == (CheckStatus.FAILED, ("ghost-1",))


def test_an_applied_unacknowledged_request_is_legitimate(analysed: Analyse) -> None:
    # the synthetic ledger applies tx-u-1, requested but never acknowledged
    result = analysed(SyntheticRun())
    finding = next(f for f in result.audit.findings if f.name == "nothing_unrequested")
    assert finding.status is CheckStatus.PASSED
    assert "1 requested without acknowledgement" in finding.detail


def test_catches_a_changed_amount(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun())
    ledger = pd.read_parquet(run_dir / LEDGER)
    ledger.loc[ledger["tx_id"] == tx_id(3), "amount"] = 1
    ledger.to_parquet(run_dir / LEDGER, index=False)
    found = statuses(audit_run(load_run(run_dir)))
    assert found["acked_amounts_match"] == (CheckStatus.FAILED, (tx_id(3),))


def test_without_a_ledger_export_reconciliation_is_skipped(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun())
    (run_dir / LEDGER).unlink()
    result = audit_run(load_run(run_dir))
    assert statuses(result)["reconciliation"][0] is CheckStatus.SKIPPED
    assert result.ok and result.status is CheckStatus.PASSED  # the platform checks passed


def test_a_failed_platform_check_fails_the_audit(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run", SyntheticRun())
    (run_dir / "audit.json").write_text(
        '{"ok": false, "checks": [{"name": "no_negative_balance", "ok": false,'
        ' "detail": "1 negative", "offending_ids": ["p-0007"]}]}'
    )
    found = statuses(audit_run(load_run(run_dir)))
    assert found["no_negative_balance"] == (CheckStatus.FAILED, ("p-0007",))


def test_a_declined_payment_is_not_lost_and_its_refund_was_requested(tmp_path: Path) -> None:
    from spikekit.analysis.audit import reconcile

    acked = pd.DataFrame(
        {
            "kind": ["deposit", "deposit", "withdrawal"],
            "player_id": ["p1", "p1", "p2"],
            "tx_id": ["dep-declined", "dep-lost", "wd-1"],
            "amount": [500, 700, 300],
        }
    )
    ledger = pd.DataFrame(
        {  # the payout of wd-1 was declined: debited, then refunded by the platform
            "tx_id": ["wd-1", "wd-1.refund"],
            "kind": ["withdrawal", "deposit"],
            "player_id": ["p2", "p2"],
            "amount": [300, 300],
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["dep-declined", "dep-lost", "wd-1"],
            "kind": ["deposit", "deposit", "withdrawal"],
            "player_id": ["p1", "p1", "p2"],
            "amount": [500, 700, 300],
            "status": ["failed", "completed", "failed"],
            "reason": ["PROVIDER_DECLINED", None, "PAYOUT_DECLINED"],
        }
    )
    found = {f.name: f for f in reconcile(acked, None, ledger, payments)}
    assert found["acked_applied"].offending_ids == ("dep-lost",)
    assert found["nothing_unrequested"].status is CheckStatus.PASSED
    without = {f.name: f for f in reconcile(acked, None, ledger)}
    assert without["acked_applied"].offending_ids == ("dep-declined", "dep-lost")
    assert without["nothing_unrequested"].offending_ids == ("wd-1.refund",)


def test_unanswered_requests_explain_as_many_unseen_bets_and_no_more() -> None:
    from spikekit.analysis.audit import reconcile

    acked = pd.DataFrame(
        {"kind": ["bet"], "player_id": ["p1"], "tx_id": ["aurora:b0"], "amount": [10]}
    )
    unacked = pd.DataFrame(  # two timed-out rounds: their ids never reached the client
        {"kind": ["bet", "bet"], "player_id": ["p1", "p1"], "tx_id": ["", ""], "amount": [10, 10]}
    )
    ledger = pd.DataFrame(
        {
            "tx_id": ["aurora:b0", "aurora:b1", "aurora:b2", "aurora:b3", "blitz:x1"],
            "kind": ["bet"] * 5,
            "player_id": ["p1", "p1", "p1", "p1", "p2"],
            "amount": [10] * 5,
        }
    )
    found = {f.name: f for f in reconcile(acked, unacked, ledger)}
    assert found["nothing_unrequested"].offending_ids == ("aurora:b3", "blitz:x1")
    assert (
        "2 requested without acknowledgement"
        in reconcile(acked, unacked, ledger.iloc[:3])[3].detail
    )
