"""Faults of the toolkit itself: a hole in the load engine's records never turns into a
wallet-audit failure of the platform, and a fault the run could not revert is named."""

from __future__ import annotations

from spikekit.analysis.audit import CheckStatus
from spikekit.analysis.synthetic import SyntheticFault, SyntheticIncident, SyntheticRun, tx_id
from spikekit.analysis.verdict import Verdict

from .conftest import Analyse

UNREQUESTED = ("orphan-1", "orphan-2", "orphan-3")
WORKER_LOST = SyntheticIncident(t=120.0, records_lost_from_s=90.0, players=("p-0500",))


def lost_worker_run(**changes: object) -> SyntheticRun:
    spec = {
        "unrequested_tx_ids": UNREQUESTED,
        "unrequested_at_s": 110.0,
        "incidents": (WORKER_LOST,),
        **changes,
    }
    return SyntheticRun(**spec)  # type: ignore[arg-type]


def findings(result: object) -> dict[str, tuple[CheckStatus, tuple[str, ...]]]:
    return {f.name: (f.status, f.offending_ids) for f in result.audit.findings}  # type: ignore[attr-defined]


def test_without_a_hole_unrequested_entries_fail_the_platform(analysed: Analyse) -> None:
    result = analysed(lost_worker_run(incidents=()))
    assert findings(result)["nothing_unrequested"] == (CheckStatus.FAILED, UNREQUESTED)
    assert result.verdict.verdict is Verdict.FAILED and result.verdict.conclusive


def test_entries_the_lost_records_could_explain_are_unattributable(analysed: Analyse) -> None:
    result = analysed(lost_worker_run())  # p-9999: a player no record of the run names
    found = findings(result)
    assert found["nothing_unrequested"][0] is CheckStatus.PASSED
    assert found["unrequested_unattributable"] == (CheckStatus.INCONCLUSIVE, UNREQUESTED)
    assert result.audit.status is CheckStatus.INCONCLUSIVE
    verdict = result.verdict
    assert verdict.verdict is Verdict.PASSED and verdict.exit_code == 0
    assert not verdict.conclusive
    assert any("toolkit fault" in r for r in verdict.inconclusive_reasons)
    assert any("unattributable" in r for r in verdict.inconclusive_reasons)
    assert "generator lost load-worker-1" in verdict.paragraph
    assert "wallet audit failed" not in verdict.paragraph.lower()


def test_a_player_of_the_lost_worker_is_in_the_hole(analysed: Analyse) -> None:
    result = analysed(lost_worker_run(unrequested_player="p-0500"))
    assert findings(result)["unrequested_unattributable"][0] is CheckStatus.INCONCLUSIVE
    assert result.verdict.verdict is not Verdict.FAILED


def test_a_surviving_workers_player_is_still_judged(analysed: Analyse) -> None:
    # p-0003 is in the complete records of a worker that did not die
    result = analysed(lost_worker_run(unrequested_player="p-0003"))
    assert findings(result)["nothing_unrequested"] == (CheckStatus.FAILED, UNREQUESTED)
    assert "unrequested_unattributable" not in findings(result)
    assert result.verdict.verdict is Verdict.FAILED


def test_entries_applied_before_the_hole_are_still_judged(analysed: Analyse) -> None:
    result = analysed(lost_worker_run(unrequested_at_s=30.0))
    assert findings(result)["nothing_unrequested"] == (CheckStatus.FAILED, UNREQUESTED)
    assert result.verdict.verdict is Verdict.FAILED


def test_a_hole_of_every_player_covers_anyone_after_it(analysed: Analyse) -> None:
    master = SyntheticIncident(
        t=120.0, kind="master_lost", subject="load-master", records_lost_from_s=90.0
    )
    result = analysed(lost_worker_run(incidents=(master,), unrequested_player="p-0003"))
    assert findings(result)["unrequested_unattributable"][0] is CheckStatus.INCONCLUSIVE


def test_ledger_invariants_still_judge_the_platform_inside_a_hole(analysed: Analyse) -> None:
    doubled = tx_id(8)
    result = analysed(lost_worker_run(duplicated_tx_ids=(doubled,)))
    found = findings(result)
    assert found["applied_once"] == (CheckStatus.FAILED, (doubled,))
    assert found["unrequested_unattributable"][0] is CheckStatus.INCONCLUSIVE
    assert result.audit.status is CheckStatus.FAILED
    assert result.verdict.verdict is Verdict.FAILED and result.verdict.exit_code == 1


def test_an_incident_without_a_hole_only_makes_it_inconclusive(analysed: Analyse) -> None:
    quiet = SyntheticIncident(t=50.0, detail="generator lost load-worker-1 after its last flush")
    result = analysed(SyntheticRun(incidents=(quiet,)))
    assert result.audit.status is CheckStatus.PASSED
    assert result.verdict.verdict is Verdict.PASSED and not result.verdict.conclusive


def test_a_fault_whose_revert_failed_is_named_not_failed(analysed: Analyse) -> None:
    fault = SyntheticFault("slow-redis", 100.0, 130.0, fault="network.latency", target="gw")
    toxiproxy = SyntheticIncident(
        t=120.0, kind="toxiproxy_lost", subject="toxiproxy", detail="Toxiproxy died"
    )
    result = analysed(
        SyntheticRun(faults=(fault,), failed_reverts=("slow-redis",), incidents=(toxiproxy,))
    )
    [judged] = result.faults
    assert judged.outcome.value == "not reverted" and judged.window.revert_error == "unreachable"
    [still_on] = result.not_reverted
    assert still_on.fault_id == "slow-redis" and "died with it" in still_on.reason
    assert still_on.by_hand == f"spikekit chaos revert --all {result.run.path}"
    verdict = result.verdict
    assert verdict.verdict is not Verdict.FAILED and not verdict.conclusive
    assert "revert it by hand: spikekit chaos revert --all" in verdict.paragraph


def test_a_fault_never_reverted_by_a_completed_run_still_fails(analysed: Analyse) -> None:
    result = analysed(SyntheticRun(faults=(SyntheticFault("stuck", 100.0, None),)))
    assert result.verdict.verdict is Verdict.FAILED
    assert [f.fault_id for f in result.not_reverted] == ["stuck"]
