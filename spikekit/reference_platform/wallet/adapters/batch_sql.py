"""The statements of a batch: each step one set-based statement, whatever the batch's size.

Two ways to run a batch (:class:`..repository.PostgresRepository`):

- **optimistic** (two round trips, no explicit transaction): :data:`READ_BATCH`
  reads the accounts with their ``version`` and the records in one statement
  (one snapshot); the rules run; :data:`SAVE_BATCH` writes everything in one
  statement (one commit) that first moves every written account from the
  version it was read at to the next one, and fails as a whole
  (``serialization_failure``) when one of them moved meanwhile;
- **locked** (the fallback after such a conflict): BEGIN, :data:`LOCK_ACCOUNTS`,
  :data:`READ_RECORDS`, the same :data:`SAVE_BATCH` (its check holds: the rows
  are locked), COMMIT.

Every writer of a player's records increments the account's ``version`` (the
unbatched save too), so a batch never writes over a change it has not seen.
"""

from __future__ import annotations

TX_COLUMNS = (
    "provider, tx_id, kind, player_id, round_id, amount, status, code, balance_after, "
    "original_tx_id"
)
_T_COLUMNS = ", ".join(f"t.{name.strip()}" for name in TX_COLUMNS.split(","))
ACCOUNT_COLUMNS = "player_id, balance, currency, version"

# ORDER BY under FOR UPDATE: PostgreSQL locks the rows in that order, so two batches
# sharing accounts take their locks in the same order and never deadlock.
LOCK_ACCOUNTS = f"""
SELECT {ACCOUNT_COLUMNS} FROM wallet.accounts
WHERE player_id = ANY($1::text[]) ORDER BY player_id FOR UPDATE
"""

# The records of ids $2 of providers $1, and every record of rounds $4 of providers $3
# and players $5: a superset of the (provider, tx_id) and (provider, round_id,
# player_id) keys the batch needs, whose extra rows are true records, harmless.
# Arrays compared with ANY, not joined with unnest: a plan cached while the table
# was empty (a fresh database) must still use the indexes when it has grown; a
# join's plan does not (hash join, sequential scans, milliseconds per call).
_RECORDS = f"""
SELECT {_T_COLUMNS} FROM wallet.transactions t
WHERE t.provider = ANY($1::text[]) AND t.tx_id = ANY($2::text[])
UNION ALL
SELECT {_T_COLUMNS} FROM wallet.transactions t
WHERE t.provider = ANY($3::text[]) AND t.round_id = ANY($4::text[])
    AND t.player_id = ANY($5::text[])
"""
READ_RECORDS = _RECORDS

# One row: the accounts of players $6 and the records, both as arrays of tuples.
READ_BATCH = f"""
SELECT
    ARRAY(
        SELECT ROW({ACCOUNT_COLUMNS}) FROM wallet.accounts WHERE player_id = ANY($6::text[])
    ) AS accounts,
    ARRAY(SELECT ROW(found.*) FROM ({_RECORDS}) AS found) AS records
"""

SAVE_BATCH = f"""
WITH moved AS (
    UPDATE wallet.accounts a SET balance = b.balance, version = a.version + 1
    FROM unnest($21::text[], $22::bigint[], $23::bigint[]) AS b(player_id, balance, version)
    WHERE a.player_id = b.player_id AND a.version = b.version
    RETURNING a.player_id
), tx AS (
    INSERT INTO wallet.transactions ({TX_COLUMNS})
    SELECT * FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
        $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::text[]
    )
), refunded AS (
    UPDATE wallet.transactions t SET status = 'rolled_back'
    WHERE t.provider = ANY($11::text[]) AND t.tx_id = ANY($12::text[])  -- the index
        AND (t.provider, t.tx_id) IN (SELECT * FROM unnest($11::text[], $12::text[]))
), entry AS (
    INSERT INTO wallet.ledger_entries
        (player_id, provider, tx_id, kind, round_id, amount, balance_after)
    SELECT player_id, provider, tx_id, kind, round_id, amount, balance_after
    FROM unnest(
        $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
        $18::bigint[], $19::bigint[]
    ) WITH ORDINALITY
        AS e(player_id, provider, tx_id, kind, round_id, amount, balance_after, n)
    ORDER BY n
), event AS (
    INSERT INTO wallet.outbox (payload)
    SELECT payload FROM unnest($20::text[]) WITH ORDINALITY AS o(payload, n) ORDER BY n
)
SELECT wallet.refuse_stale(cardinality($21::text[]) - (SELECT count(*) FROM moved))
"""
