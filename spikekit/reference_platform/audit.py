"""The wallet audit: the ledger invariants, checked on the wallet's PostgreSQL tables.

SQL collects the facts (only the offending rows); pure functions judge them into
the ``audit.json`` shape of the run directory::

    {"ok": bool, "checks": [{"name", "ok", "detail", "offending_ids": [...]}]}

Checks:

- ``ledger_matches_balances``: per player, the sum of the ledger entries equals
  the balance (offending ids: player ids);
- ``applied_once``: no (provider, tx_id) has two ledger entries (``provider:tx_id``);
- ``no_negative_balance``: no balance below zero (player ids);
- ``rounds_settled``: every round with an applied bet also has an applied win
  (possibly 0) or all its bets rolled back (``provider:round_id``); rounds active
  in the last ``grace_s`` seconds are still in play and not judged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict

from spikekit.errors import StackError

MAX_OFFENDING_IDS = 1_000
AUDIT_TIMEOUT_S = 300.0

BALANCE_MISMATCHES = """
SELECT coalesce(a.player_id, l.player_id) AS player_id, a.balance, coalesce(l.total, 0) AS total
FROM wallet.accounts AS a
FULL JOIN (
    SELECT player_id, sum(amount) AS total FROM wallet.ledger_entries GROUP BY player_id
) AS l ON l.player_id = a.player_id
WHERE a.balance IS DISTINCT FROM coalesce(l.total, 0)
ORDER BY 1
"""
DUPLICATES = """
SELECT provider, tx_id, count(*) AS n FROM wallet.ledger_entries
GROUP BY provider, tx_id HAVING count(*) > 1 ORDER BY 1, 2
"""
NEGATIVES = "SELECT player_id, balance FROM wallet.accounts WHERE balance < 0 ORDER BY 1"
OPEN_ROUNDS = """
SELECT provider, round_id FROM wallet.transactions
WHERE round_id IS NOT NULL
GROUP BY provider, round_id
HAVING bool_or(kind = 'bet' AND status = 'applied')
   AND NOT bool_or(kind = 'win' AND status = 'applied')
   AND max(created_at) < now() - make_interval(secs => $1::float8)
ORDER BY 1, 2
"""
COUNTS = """
SELECT (SELECT count(*) FROM wallet.accounts) AS accounts,
       (SELECT count(*) FROM wallet.ledger_entries) AS entries
"""


class AuditUnavailable(StackError):
    """The wallet database could not be read."""


class AuditCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    detail: str
    offending_ids: list[str] = []


class AuditReport(BaseModel):
    """The content of ``audit.json``."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    checks: list[AuditCheck]

    @classmethod
    def of(cls, checks: Sequence[AuditCheck]) -> AuditReport:
        return cls(ok=all(c.ok for c in checks), checks=list(checks))

    def failed(self) -> list[AuditCheck]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class LedgerFacts:
    """What SQL found; every list holds offenders only."""

    accounts: int = 0
    entries: int = 0
    mismatches: list[tuple[str, int | None, int]] = field(default_factory=list)
    duplicates: list[tuple[str, str, int]] = field(default_factory=list)
    negatives: list[tuple[str, int]] = field(default_factory=list)
    open_rounds: list[tuple[str, str]] = field(default_factory=list)


def judge(name: str, offending: Sequence[str], passed: str, failed: str) -> AuditCheck:
    """One check: ok when nothing offends; the ids are capped, the detail gives the count."""
    if not offending:
        return AuditCheck(name=name, ok=True, detail=passed)
    shown = list(offending[:MAX_OFFENDING_IDS])
    more = f" (first {len(shown)} listed)" if len(offending) > len(shown) else ""
    return AuditCheck(
        name=name, ok=False, detail=failed.format(n=len(offending)) + more, offending_ids=shown
    )


def evaluate(facts: LedgerFacts) -> AuditReport:
    """The audit's verdict on collected facts; pure."""
    mismatch_detail = ", ".join(
        f"{pid}: balance {balance} vs ledger {total}"
        for pid, balance, total in facts.mismatches[:5]
    )
    return AuditReport.of(
        [
            judge(
                "ledger_matches_balances",
                [pid for pid, _, _ in facts.mismatches],
                f"ledger sums match the balances of {facts.accounts} accounts "
                f"({facts.entries} entries)",
                "{n} account(s) whose ledger sum differs from the balance: " + mismatch_detail,
            ),
            judge(
                "applied_once",
                [f"{provider}:{tx_id}" for provider, tx_id, _ in facts.duplicates],
                "no transaction id applied twice",
                "{n} transaction id(s) applied more than once",
            ),
            judge(
                "no_negative_balance",
                [pid for pid, _ in facts.negatives],
                "no negative balance",
                "{n} account(s) with a negative balance",
            ),
            judge(
                "rounds_settled",
                [f"{provider}:{round_id}" for provider, round_id in facts.open_rounds],
                "every round with a bet is settled by a win or rolled back",
                "{n} round(s) with a bet but neither a win nor a rollback",
            ),
        ]
    )


async def collect(conn: Any, grace_s: float = 0.0) -> LedgerFacts:
    """Run the audit queries on a connection to the platform's database."""
    counts = await conn.fetchrow(COUNTS)
    return LedgerFacts(
        accounts=int(counts["accounts"]),
        entries=int(counts["entries"]),
        mismatches=[
            (
                str(r["player_id"]),
                None if r["balance"] is None else int(r["balance"]),
                int(r["total"]),
            )
            for r in await conn.fetch(BALANCE_MISMATCHES)
        ],
        duplicates=[
            (str(r["provider"]), str(r["tx_id"]), int(r["n"])) for r in await conn.fetch(DUPLICATES)
        ],
        negatives=[(str(r["player_id"]), int(r["balance"])) for r in await conn.fetch(NEGATIVES)],
        open_rounds=[
            (str(r["provider"]), str(r["round_id"])) for r in await conn.fetch(OPEN_ROUNDS, grace_s)
        ],
    )


async def audit(dsn: str, grace_s: float = 0.0) -> AuditReport:
    """Audit the wallet in the database at ``dsn`` (one REPEATABLE READ snapshot)."""
    try:
        conn = await asyncpg.connect(dsn, timeout=10, command_timeout=AUDIT_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise AuditUnavailable(f"cannot connect to the wallet database {dsn}: {error}") from error
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            facts = await collect(conn, grace_s)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise AuditUnavailable(f"the wallet audit failed on {dsn}: {error}") from error
    finally:
        await conn.close(timeout=10)
    return evaluate(facts)


def audit_sync(dsn: str, grace_s: float = 0.0) -> AuditReport:
    """:func:`audit` for synchronous callers (the CLI, the run analysis)."""
    return asyncio.run(audit(dsn, grace_s))
