"""The ledger of a platform of the user's own, read for the wallet audit (docs/ledger-export.md).

:func:`check_ledger` runs before anything starts: the DSN's variable is set and its host
is allowed (:class:`~spikekit.guard.TargetGuard`, as for the target), and the query is
prepared on the database, its columns checked; a file's folder exists. :func:`read_ledger`
runs after the run: it reads the source and returns the audit's table
(:data:`~spikekit.reference_platform.ledger_export.SCHEMA`), which the run writes as
``ledger_export.parquet``, the same file the bundled platform's export becomes; the audit
then reconciles it with the same checks.

A row of kind ``declined`` is no ledger entry but a payment the platform accepted and then
declined (:func:`split_declined`): the players saw it acknowledged (a 202), so without it
the audit would count it missing; the bundled platform's payments export says the same.

Amounts become integer minor units exactly (``Decimal``, times ``amount_scale``; a value
with a fraction of a minor unit is an error, never rounded); their sign is dropped (the
kind says the direction, as in the bundled export). Ids are strings.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from spikekit.errors import ConfigError
from spikekit.guard import TargetGuard
from spikekit.reference_platform.ledger_export import PAYMENTS_SCHEMA, SCHEMA
from spikekit.scenarios.ledger import FileLedger, LedgerSource, SqlLedger

#: the kind of a row that is a payment accepted and then declined, not a ledger entry
DECLINED = "declined"


class LedgerError(ConfigError):
    """The ledger source cannot be read, or gives what the audit cannot use."""


def ledger_path(source: FileLedger, scenario_ref: str) -> Path:
    """The file, relative to the scenario file's folder (a built-in: the working folder)."""
    path = Path(source.file).expanduser()
    if path.is_absolute():
        return path
    scenario = Path(scenario_ref)
    base = scenario.parent if scenario.suffix.lower() in (".yaml", ".yml") else Path.cwd()
    return base / path


def describe(source: LedgerSource, scenario_ref: str) -> str:
    if isinstance(source, FileLedger):
        return f"the file {ledger_path(source, scenario_ref)}"
    return f"a SQL query through ${source.dsn_env}"


def _dsn(source: SqlLedger, env: Mapping[str, str]) -> str:
    dsn = env.get(source.dsn_env, "").strip()
    if not dsn:
        raise LedgerError(
            f"target.ledger: the environment variable {source.dsn_env} is not set; expected "
            "the DSN of the ledger's database (postgresql://user:password@host:port/db)"
        )
    return dsn


def _check_host(dsn: str, guard: TargetGuard, name: str) -> None:
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        raise LedgerError(f"target.ledger: ${name} is not a postgresql:// DSN")
    host = parts.hostname or ""
    if host and not host.startswith("/"):  # a Unix socket is this machine
        guard.check_host(host, "the ledger's database")


def check_ledger(
    source: LedgerSource,
    scenario_ref: str,
    guard: TargetGuard,
    env: Mapping[str, str] = os.environ,
) -> str:
    """Refuse (:class:`LedgerError`, exit 2) a source the audit could not read; returns
    what it reads, for the console."""
    if isinstance(source, FileLedger):
        folder = ledger_path(source, scenario_ref).parent
        if not folder.is_dir():
            raise LedgerError(f"target.ledger.file: the folder {folder} does not exist")
        return describe(source, scenario_ref)
    dsn = _dsn(source, env)
    _check_host(dsn, guard, source.dsn_env)
    columns = asyncio.run(_prepare(source, dsn))
    _expect_columns(columns, source, "the query")
    return describe(source, scenario_ref)


def read_ledger(
    source: LedgerSource,
    scenario_ref: str,
    started: datetime,
    ended: datetime,
    env: Mapping[str, str] = os.environ,
) -> pa.Table:
    """The audit's ledger table from ``source`` (the run from ``started`` to ``ended``)."""
    if isinstance(source, FileLedger):
        path = ledger_path(source, scenario_ref)
        if not path.is_file():
            raise LedgerError(f"target.ledger.file: {path} was not there after the run")
        return normalise(_read_file(path, source), source, str(path))
    rows = asyncio.run(_fetch(source, _dsn(source, env), started, ended))
    return normalise(rows, source, "the query")


def split_declined(table: pa.Table) -> tuple[pa.Table, pa.Table | None]:
    """The ledger without its rows of kind ``declined``, and those rows as payments' final
    statuses (:data:`PAYMENTS_SCHEMA`, status ``failed``; None when there are none): the
    audit's ``acked_applied`` excuses an acknowledged payment that ended declined, and
    ``nothing_unrequested`` its refund (``<id>.refund``), as for the bundled platform."""
    declined = pc.equal(table.column("kind"), DECLINED)
    if not pc.any(declined).as_py():
        return table, None
    rows = table.filter(declined)
    count = rows.num_rows
    payments = pa.table(
        {
            "payment_id": rows.column("tx_id"),
            "kind": pa.array(["payment"] * count, pa.string()),
            "player_id": rows.column("player_id"),
            "amount": rows.column("amount"),
            "status": pa.array(["failed"] * count, pa.string()),
            "reason": pa.array([DECLINED] * count, pa.string()),
        },
        schema=PAYMENTS_SCHEMA,
    )
    return table.filter(pc.invert(declined)), payments


# --- the sources -----------------------------------------------------------------------------


async def _connect(source: SqlLedger, dsn: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(dsn, timeout=source.timeout_s)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise LedgerError(
            f"target.ledger: cannot connect through ${source.dsn_env}: {error}"
        ) from None


async def _prepare(source: SqlLedger, dsn: str) -> list[str]:
    conn = await _connect(source, dsn)
    try:
        async with conn.transaction(readonly=True):
            statement = await conn.prepare(source.query, timeout=source.timeout_s)
            _check_parameters(len(statement.get_parameters()))
            return [a.name for a in statement.get_attributes()]
    except asyncpg.PostgresError as error:
        raise LedgerError(f"target.ledger.query: {error}") from None
    finally:
        await conn.close()


async def _fetch(
    source: SqlLedger, dsn: str, started: datetime, ended: datetime
) -> list[dict[str, Any]]:
    conn = await _connect(source, dsn)
    try:
        async with conn.transaction(readonly=True):
            statement = await conn.prepare(source.query, timeout=source.timeout_s)
            count = len(statement.get_parameters())
            _check_parameters(count)
            args = (started, ended)[:count]
            records = await statement.fetch(*args, timeout=source.timeout_s)
            return [dict(r.items()) for r in records]
    except asyncpg.PostgresError as error:
        raise LedgerError(f"target.ledger.query: {error}") from None
    finally:
        await conn.close()


def _check_parameters(count: int) -> None:
    if count > 2:
        raise LedgerError(
            f"target.ledger.query: it takes {count} parameters; expected at most 2 "
            "($1 the run's start, $2 its end)"
        )


def _read_file(path: Path, source: FileLedger) -> list[dict[str, Any]]:
    try:
        if path.suffix.lower() == ".parquet":
            table = pq.read_table(path)
        else:
            text = {c: pa.string() for c in (*source.columns.required().values(),)}
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=text))
    except (OSError, pa.ArrowInvalid) as error:
        raise LedgerError(f"target.ledger.file: {path}: {error}") from None
    _expect_columns(table.column_names, source, str(path))
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


# --- into the audit's table ------------------------------------------------------------------


def _expect_columns(names: Sequence[str], source: LedgerSource, where: str) -> None:
    """The four required columns are there (an optional one absent is read as empty)."""
    wanted = source.columns.required()
    missing = [f"{ours} ({theirs})" for ours, theirs in wanted.items() if theirs not in names]
    if missing:
        raise LedgerError(
            f"target.ledger: {where} has no column for {', '.join(missing)}; it has "
            f"{', '.join(names) or 'none'} (map them in target.ledger.columns)"
        )


def normalise(rows: Iterable[Mapping[str, Any]], source: LedgerSource, where: str) -> pa.Table:
    """The source's rows as the audit's table (columns renamed, kinds mapped, cents)."""
    columns = source.columns
    optional = columns.optional()
    kinds = {k: v.value for k, v in source.kinds.items()}
    out: dict[str, list[Any]] = {field.name: [] for field in SCHEMA}
    for index, row in enumerate(rows, start=1):
        try:
            out["tx_id"].append(_text(row[columns.tx_id]))
            kind = _text(row[columns.kind])
            out["kind"].append(kinds.get(kind, kind))
            out["player_id"].append(_text(row[columns.player_id]))
            out["amount"].append(_cents(row[columns.amount], source.amount_scale))
        except (KeyError, ValueError) as error:
            raise LedgerError(f"target.ledger: {where}, row {index}: {error}") from None
        applied = row.get(optional["applied_at"]) if "applied_at" in optional else None
        out["applied_at"].append(_timestamp(applied))
        ref = row.get(optional["ref_tx_id"]) if "ref_tx_id" in optional else None
        out["ref_tx_id"].append(None if ref in (None, "") else str(ref))
    return pa.table(out, schema=SCHEMA)


def _text(value: Any) -> str:
    if value is None or value == "":
        raise ValueError("an empty id or kind")
    return str(value)


def _cents(value: Any, scale: int) -> int:
    try:
        amount = Decimal(str(value).strip()) * scale
    except InvalidOperation:
        raise ValueError(f"amount {value!r} is not a number") from None
    if amount != amount.to_integral_value():
        raise ValueError(f"amount {value!r} x {scale} is not a whole number of minor units")
    return abs(int(amount))


def _timestamp(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None  # an unreadable time only loses the hole attribution, not the check
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
