"""Where a platform of the user's own keeps its ledger for the wallet audit (docs/ledger-export.md).

The audit reconciles what the players saw acknowledged with what the platform applied.
spikekit reads the bundled platform's ledger itself; a platform of the user's own says
in ``target.ledger`` how to read its own, one of two ways::

    target:
      url: http://127.0.0.1:8080
      ledger:                          # a SQL query through a DSN (a read replica is fine)
        query: SELECT id, type, account, cents, created FROM ledger WHERE created >= $1
        dsn_env: SPIKEKIT_LEDGER_DSN   # the variable holding the DSN: no secret in the file
        columns: {tx_id: id, kind: type, player_id: account, amount: cents, applied_at: created}
        kinds: {wager: bet, payout: win}

    target:
      url: http://127.0.0.1:8080
      ledger:
        file: exports/ledger.csv       # CSV or Parquet, written by the platform by the end
        amount_scale: 100              # amounts in the file are in units: x100 to cents

The query may use ``$1`` and ``$2``: the run's start and end (``timestamptz``). Columns
map the audit's names (``tx_id``, ``kind``, ``player_id``, ``amount``, optionally
``applied_at`` and ``ref_tx_id``) to the source's; ``kinds`` maps the source's kind values
to the audit's (:class:`LedgerKind`); values it does not name are kept as they are.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
COLUMN = Annotated[str, Field(min_length=1, max_length=200)]


class LedgerKind(StrEnum):
    """The kinds of entries the audit knows; the first three are the players' own."""

    BET = "bet"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    WIN = "win"
    ROLLBACK = "rollback"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerColumns(_Model):
    """The source's column for each of the audit's (``applied_at``/``ref_tx_id``: None = absent)."""

    tx_id: COLUMN = "tx_id"
    kind: COLUMN = "kind"
    player_id: COLUMN = "player_id"
    amount: COLUMN = "amount"
    applied_at: COLUMN | None = "applied_at"
    ref_tx_id: COLUMN | None = "ref_tx_id"

    def required(self) -> dict[str, str]:
        """The audit's name → the source's, for the four columns every source must have."""
        return {
            "tx_id": self.tx_id,
            "kind": self.kind,
            "player_id": self.player_id,
            "amount": self.amount,
        }

    def optional(self) -> dict[str, str]:
        found = {"applied_at": self.applied_at, "ref_tx_id": self.ref_tx_id}
        return {name: column for name, column in found.items() if column is not None}


class _Source(_Model):
    columns: LedgerColumns = Field(
        default_factory=LedgerColumns, description="The source's column for each audit column."
    )
    kinds: dict[Annotated[str, Field(min_length=1, max_length=100)], LedgerKind] = Field(
        default_factory=dict,
        max_length=100,
        description="The source's kind values mapped to the audit's (bet, deposit, ...).",
    )
    amount_scale: int = Field(
        default=1, ge=1, le=1_000_000, description="Multiply amounts by this to get minor units."
    )


class SqlLedger(_Source):
    """The ledger read by a query through a PostgreSQL DSN, in a read-only transaction."""

    union_tag: ClassVar[str] = "sql"
    query: str = Field(min_length=1, max_length=20_000, description="A SELECT (or WITH) query.")
    dsn_env: str = Field(
        default="SPIKEKIT_LEDGER_DSN",
        pattern=ENV_NAME,
        description="The environment variable that holds the DSN (postgresql://...).",
    )
    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="Connect and query bound.")

    @field_validator("query")
    @classmethod
    def _select(cls, value: str) -> str:
        first = value.lstrip().split(None, 1)[0].lower() if value.strip() else ""
        if first not in ("select", "with"):
            raise ValueError(f"expected a SELECT or WITH query, got one starting {first!r}")
        return value


class FileLedger(_Source):
    """The ledger read from a CSV or Parquet file the platform wrote by the end of the run."""

    union_tag: ClassVar[str] = "file"
    file: str = Field(
        min_length=1,
        max_length=4096,
        description="A .csv or .parquet path, relative to the scenario file's folder.",
    )

    @field_validator("file")
    @classmethod
    def _suffix(cls, value: str) -> str:
        if not value.lower().endswith((".csv", ".parquet")):
            raise ValueError(f"expected a .csv or .parquet file, got {value!r}")
        return value


def _ledger_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "file" if "file" in value else "sql"
    return "file" if isinstance(value, FileLedger) else "sql"


#: ``{file: ...}`` is a file; anything else (``{query: ...}``) a SQL query.
LedgerSource = Annotated[
    Annotated[SqlLedger, Tag("sql")] | Annotated[FileLedger, Tag("file")],
    Discriminator(_ledger_tag),
]
