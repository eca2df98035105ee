"""The wallet audit: the platform's ledger invariants plus client-vs-ledger reconciliation.

Reconciliation compares what the load engine saw acknowledged
(``acked_transactions.jsonl``) and what it requested without an answer
(``unacked_transactions.jsonl``) with what the platform actually applied
(``ledger_export.parquet``):

- ``acked_applied``: every acknowledged transaction is in the ledger;
- ``applied_once``: no transaction id is applied twice;
- ``acked_amounts_match``: the ledger has the acknowledged player and amount;
- ``nothing_unrequested``: no player-initiated transaction (deposit, withdrawal,
  bet) is in the ledger that the load engine never requested.

A requested-but-unacknowledged transaction that was applied is legitimate (a
timeout after the commit) and only counted in the detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from spikekit.analysis.rundir import RunData

PLAYER_INITIATED = ("deposit", "withdrawal", "bet")


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class AuditFinding:
    name: str
    source: str  # "platform" (audit.json) or "reconciliation"
    status: CheckStatus
    detail: str
    offending_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditResult:
    findings: tuple[AuditFinding, ...]

    @property
    def status(self) -> CheckStatus:
        statuses = {f.status for f in self.findings}
        if CheckStatus.FAILED in statuses:
            return CheckStatus.FAILED
        if CheckStatus.PASSED in statuses:
            return CheckStatus.PASSED
        return CheckStatus.SKIPPED

    @property
    def ok(self) -> bool:
        return self.status is not CheckStatus.FAILED

    @property
    def skipped(self) -> tuple[AuditFinding, ...]:
        return tuple(f for f in self.findings if f.status is CheckStatus.SKIPPED)


def _finding(name: str, ids: list[str], passed: str, failed: str) -> AuditFinding:
    if not ids:
        return AuditFinding(name, "reconciliation", CheckStatus.PASSED, passed)
    return AuditFinding(
        name, "reconciliation", CheckStatus.FAILED, failed.format(n=len(ids)), tuple(sorted(ids))
    )


def reconcile(acked: Any, unacked: Any, ledger: Any) -> list[AuditFinding]:
    """Client-side acknowledged transactions against the platform's ledger export."""
    ledger_ids = ledger["tx_id"].astype(str)
    counts = ledger_ids.value_counts()
    applied = ledger.assign(tx_id=ledger_ids).drop_duplicates("tx_id").set_index("tx_id")
    acked = acked.assign(tx_id=acked["tx_id"].astype(str))
    acked_ids = acked["tx_id"]

    missing = acked_ids[~acked_ids.isin(counts.index)].tolist()
    duplicates = counts[counts > 1].index.astype(str).tolist()

    both = acked[acked_ids.isin(applied.index)].set_index("tx_id")
    stored = applied.loc[both.index]
    differs = (stored["amount"].astype("int64") != both["amount"].astype("int64")) | (
        stored["player_id"].astype(str) != both["player_id"].astype(str)
    )
    mismatched = both.index[differs.to_numpy()].tolist()

    requested = set(acked_ids)
    unacked_ids: set[str] = set()
    if unacked is not None:
        unacked_ids = set(unacked["tx_id"].astype(str))
    initiated = ledger[ledger["kind"].astype(str).isin(PLAYER_INITIATED)]
    initiated_ids = initiated["tx_id"].astype(str)
    unrequested = sorted(set(initiated_ids[~initiated_ids.isin(requested | unacked_ids)]))
    applied_unacked = len(unacked_ids & set(counts.index.astype(str)))

    return [
        _finding("acked_applied", missing,
                 f"all {len(acked_ids)} acknowledged transactions are in the ledger",
                 "{n} acknowledged transaction(s) missing from the ledger"),
        _finding("applied_once", duplicates, "no transaction id applied twice",
                 "{n} transaction id(s) applied more than once"),
        _finding("acked_amounts_match", mismatched,
                 "player and amount match for every acknowledged transaction",
                 "{n} transaction(s) applied with another player or amount"),
        _finding("nothing_unrequested", unrequested,
                 f"every player-initiated ledger entry was requested "
                 f"({applied_unacked} requested without acknowledgement were applied)",
                 "{n} ledger entr(y/ies) never requested by the load engine"),
    ]


def audit_run(run: RunData) -> AuditResult:
    findings: list[AuditFinding] = []
    if run.audit is None:
        findings.append(
            AuditFinding("platform_audit", "platform", CheckStatus.SKIPPED, "audit.json is absent")
        )
    else:
        for check in run.audit.checks:
            status = CheckStatus.PASSED if check.ok else CheckStatus.FAILED
            findings.append(
                AuditFinding(check.name, "platform", status, check.detail,
                             tuple(str(i) for i in check.offending_ids))
            )
        if not run.audit.ok and all(c.ok for c in run.audit.checks):
            findings.append(
                AuditFinding("platform_audit", "platform", CheckStatus.FAILED,
                             "audit.json reports ok: false")
            )
    if run.acked is None or run.ledger is None:
        absent = " and ".join(
            name for name, frame in (("acked_transactions.jsonl", run.acked),
                                     ("ledger_export.parquet", run.ledger)) if frame is None
        )
        findings.append(
            AuditFinding("reconciliation", "reconciliation", CheckStatus.SKIPPED,
                         f"{absent} absent: acknowledged transactions not reconciled")
        )
    else:
        findings.extend(reconcile(run.acked, run.unacked, run.ledger))
    return AuditResult(tuple(findings))
