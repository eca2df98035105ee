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

When the toolkit lost part of its own records during the run (a Locust worker or the
master died, the disk filled up: a ``toolkit_incident`` with a hole), a ledger entry
never requested *that could be in the hole* — applied from the hole's start on, for a
player of the process that lost its records or a player no record names at all — is
not the platform's fault: it goes to ``unrequested_unattributable`` (status
``inconclusive``: "unattributable, generator lost records"), never to a failure. The
ledger's own invariants (sums, no id applied twice, no negative balance) and the other
checks still judge the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spikekit.analysis.rundir import Incident, RunData
from spikekit.rundir.layout import ACKED, AUDIT, LEDGER

PLAYER_INITIATED = ("deposit", "withdrawal", "bet")


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    INCONCLUSIVE = "inconclusive"  # cannot be judged: the toolkit lost records it needs


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
        if CheckStatus.INCONCLUSIVE in statuses:
            return CheckStatus.INCONCLUSIVE
        if CheckStatus.PASSED in statuses:
            return CheckStatus.PASSED
        return CheckStatus.SKIPPED

    @property
    def ok(self) -> bool:
        return self.status is not CheckStatus.FAILED

    @property
    def skipped(self) -> tuple[AuditFinding, ...]:
        return tuple(f for f in self.findings if f.status is CheckStatus.SKIPPED)

    @property
    def inconclusive(self) -> tuple[AuditFinding, ...]:
        return tuple(f for f in self.findings if f.status is CheckStatus.INCONCLUSIVE)


def _applied_s(frame: Any) -> Any:
    """``applied_at`` as Unix seconds (NaN where unknown or without the column)."""
    if "applied_at" not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    column = frame["applied_at"]
    if pd.api.types.is_numeric_dtype(column):
        return column.astype("float64")
    stamps = pd.to_datetime(column, utc=True, errors="coerce")
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return seconds.astype("float64")


def in_hole(
    ledger: Any, ids: Sequence[str], holes: Sequence[Incident], known_players: set[str]
) -> list[str]:
    """The ledger entries among ``ids`` that the toolkit's lost records could explain.

    An entry is in a hole when it was applied at or after the hole's start (or when is
    unknown) and its player is one of the process that lost its records (any player for
    a hole of every process) or one that no record of the load engine names at all (a
    player that process started in its last moments, a new registrant).
    """
    holes = [h for h in holes if h.records_lost_from_ts is not None]
    if not len(ids) or not holes:
        return []
    rows = ledger[ledger["tx_id"].astype(str).isin(set(ids))]
    applied = _applied_s(rows)
    player = rows["player_id"].astype(str)
    unknown = ~player.isin(known_players)
    mask = pd.Series(False, index=rows.index)
    for hole in holes:
        after = applied.isna() | (applied >= float(hole.records_lost_from_ts or 0.0))
        whose = True if hole.players is None else (player.isin(hole.players) | unknown)
        mask |= after & whose
    return sorted({str(x) for x in rows.loc[mask, "tx_id"]})


def _finding(name: str, ids: list[str], passed: str, failed: str) -> AuditFinding:
    if not ids:
        return AuditFinding(name, "reconciliation", CheckStatus.PASSED, passed)
    return AuditFinding(
        name, "reconciliation", CheckStatus.FAILED, failed.format(n=len(ids)), tuple(sorted(ids))
    )


def _table(frame: Any) -> Any:
    """The reconciliation columns as a pyarrow table (fast set operations on millions of ids)."""
    table = pa.Table.from_pandas(
        frame[["tx_id", "player_id", "amount", "kind"]], preserve_index=False
    )
    return pa.table(
        {
            "tx_id": pc.cast(table["tx_id"], pa.large_string()),
            "player_id": pc.cast(table["player_id"], pa.large_string()),
            "amount": pc.cast(table["amount"], pa.int64()),
            "kind": pc.cast(table["kind"], pa.large_string()),
        }
    )


def _ids(array: Any) -> list[str]:
    return sorted(str(x) for x in array.to_pylist())


def _beyond_budget(unexplained: Any, unacked: Any) -> tuple[list[str], int]:
    """Ledger entries no acknowledgement explains, beyond what the player's unanswered
    requests of that kind (id unknown to the client) could have caused; and how many the
    budget covered. A player with 3 timed-out rounds may have 3 bets the client never saw."""
    entries = unexplained.select(["tx_id", "player_id", "kind"]).to_pandas()
    if entries.empty:
        return [], 0
    entries["n"] = entries.groupby(["player_id", "kind"]).cumcount() + 1
    budget = None
    if unacked is not None:
        blind = unacked.filter(pc.equal(unacked["tx_id"], "")).to_pandas()
        budget = blind.groupby(["player_id", "kind"]).size().rename("budget")
    if budget is None or budget.empty:
        entries["budget"] = 0
    else:
        entries = entries.join(budget, on=["player_id", "kind"])
        entries["budget"] = entries["budget"].fillna(0)
    beyond = entries["n"] > entries["budget"]
    return sorted(str(x) for x in entries.loc[beyond, "tx_id"]), int((~beyond).sum())


def _payment_ids(payments: Any, status: str | None = None) -> Any:
    if payments is None or not len(payments):
        return pa.array([], pa.large_string())
    frame = payments if status is None else payments[payments["status"] == status]
    return pa.array([str(x) for x in frame["payment_id"]], pa.large_string())


def reconcile(
    acked: Any,
    unacked: Any,
    ledger: Any,
    payments: Any = None,
    holes: Sequence[Incident] = (),
) -> list[AuditFinding]:
    """Client-side acknowledged transactions against the platform's ledger export.

    ``payments`` (the payments service's final statuses) explains two legitimate cases:
    an accepted payment that ended ``failed`` (declined, insufficient funds) never reaches
    the ledger, and a declined payout's refund (``<payment id>.refund``) was requested by
    the platform on the player's behalf. ``holes``: the toolkit's incidents whose records
    have a hole (:func:`in_hole`).
    """
    acked_t, ledger_t = _table(acked), _table(ledger)
    acked_ids, ledger_ids = acked_t["tx_id"], ledger_t["tx_id"]
    declined = _payment_ids(payments, "failed")
    absent = pc.filter(acked_ids, pc.invert(pc.is_in(acked_ids, value_set=ledger_ids)))
    missing = pc.filter(absent, pc.invert(pc.is_in(absent, value_set=declined)))
    declined_count = len(absent) - len(missing)

    counts = pc.value_counts(ledger_ids)
    duplicates = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))

    stored = ledger_t.group_by("tx_id").aggregate(
        [("amount", "min"), ("amount", "max"), ("player_id", "min"), ("player_id", "max")]
    )
    joined = acked_t.join(stored, keys="tx_id", join_type="inner")
    differs = pc.or_(
        pc.or_(
            pc.not_equal(joined["amount"], joined["amount_min"]),
            pc.not_equal(joined["amount"], joined["amount_max"]),
        ),
        pc.or_(
            pc.not_equal(joined["player_id"], joined["player_id_min"]),
            pc.not_equal(joined["player_id"], joined["player_id_max"]),
        ),
    )
    mismatched = pc.filter(joined["tx_id"], differs)

    refunds = pc.binary_join_element_wise(
        _payment_ids(payments),
        pa.scalar(".refund", pa.large_string()),
        pa.scalar("", pa.large_string()),
    )
    unacked_t = _table(unacked) if unacked is not None and len(unacked) else None
    known = [acked_ids.combine_chunks(), refunds]
    if unacked_t is not None:
        known.append(unacked_t["tx_id"].combine_chunks())
    initiated = pc.is_in(ledger_t["kind"], value_set=pa.array(PLAYER_INITIATED, pa.large_string()))
    unknown = pc.invert(pc.is_in(ledger_ids, value_set=pa.concat_arrays(known)))
    unexplained = ledger_t.filter(pc.and_(initiated, unknown))
    unrequested, within_budget = _beyond_budget(unexplained, unacked_t)
    unacked_ids = unacked_t["tx_id"] if unacked_t is not None else pa.array([], pa.large_string())
    applied_unacked = pc.sum(pc.is_in(unacked_ids, value_set=ledger_ids)).as_py() or 0
    applied_unacked += within_budget
    players = set(acked["player_id"].astype(str))
    if unacked is not None:
        players |= set(unacked["player_id"].astype(str))
    lost = in_hole(ledger, unrequested, holes, players)
    unrequested = sorted(set(unrequested) - set(lost))
    hole_note = " outside the generator's lost records" if any(h.has_hole for h in holes) else ""

    findings = [
        _finding(
            "acked_applied",
            _ids(missing),
            f"all {len(acked_ids) - declined_count} acknowledged transactions are in the ledger"
            + (f" ({declined_count} accepted payments ended declined)" if declined_count else ""),
            "{n} acknowledged transaction(s) missing from the ledger",
        ),
        _finding(
            "applied_once",
            _ids(duplicates),
            "no transaction id applied twice",
            "{n} transaction id(s) applied more than once",
        ),
        _finding(
            "acked_amounts_match",
            _ids(mismatched),
            "player and amount match for every acknowledged transaction",
            "{n} transaction(s) applied with another player or amount",
        ),
        _finding(
            "nothing_unrequested",
            unrequested,
            f"every player-initiated ledger entry{hole_note} was requested "
            f"({applied_unacked} requested without acknowledgement were applied)",
            "{n} ledger entr(y/ies) never requested by the load engine",
        ),
    ]
    if lost:
        subjects = ", ".join(sorted({h.subject for h in holes if h.has_hole}))
        findings.append(
            AuditFinding(
                "unrequested_unattributable",
                "reconciliation",
                CheckStatus.INCONCLUSIVE,
                f"{len(lost)} ledger entr{'y' if len(lost) == 1 else 'ies'} never requested "
                f"by the load engine are unattributable (generator lost records: {subjects}): "
                "not counted against the platform",
                tuple(lost),
            )
        )
    return findings


def audit_run(run: RunData) -> AuditResult:
    findings: list[AuditFinding] = []
    if run.audit is None and run.meta.profile is None:
        pass  # a platform of the user's own: no bundled ledger checks, the reconciliation's
    elif run.audit is None:
        findings.append(
            AuditFinding("platform_audit", "platform", CheckStatus.SKIPPED, f"{AUDIT} is absent")
        )
    else:
        for check in run.audit.checks:
            status = CheckStatus.PASSED if check.ok else CheckStatus.FAILED
            findings.append(
                AuditFinding(
                    check.name,
                    "platform",
                    status,
                    check.detail,
                    tuple(str(i) for i in check.offending_ids),
                )
            )
        if not run.audit.ok and all(c.ok for c in run.audit.checks):
            findings.append(
                AuditFinding(
                    "platform_audit", "platform", CheckStatus.FAILED, f"{AUDIT} reports ok: false"
                )
            )
    if run.acked is None or run.ledger is None:
        absent = " and ".join(
            name
            for name, frame in (
                (ACKED, run.acked),
                (LEDGER, run.ledger),
            )
            if frame is None
        )
        findings.append(
            AuditFinding(
                "reconciliation",
                "reconciliation",
                CheckStatus.SKIPPED,
                f"{absent} absent: acknowledged transactions not reconciled",
            )
        )
    else:
        holes = [i for i in run.incidents if i.has_hole]
        findings.extend(reconcile(run.acked, run.unacked, run.ledger, run.payments, holes))
    return AuditResult(tuple(findings))
