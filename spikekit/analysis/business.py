"""The casino's business SLIs: deposits and withdrawals completed, games launched, rounds
rolled back, rounds left unsettled at the end of the run.

Sources on the bundled platform (each a :class:`~spikekit.scenarios.slo.TelemetrySeries`
but the last two, so that the bundled platform takes the path a platform of your own takes):

- ``deposit_completion_p95`` / ``withdrawal_completion_p95`` (ms): the payments'
  ``payments_completion_seconds{kind, status="completed"}`` histogram, acceptance (202)
  to the money credited or paid out, queue wait included; its per-second p95 weighted by
  the completions of that second. A queue that is stalled completes nothing: no value
  while it is stalled, the long waits show when the backlog drains;
- ``round_rollback_rate`` (0..1): the wallet's rollbacks applied per bet applied
  (``wallet_transactions_total``, ``operation=rollback`` over ``debit`` + ``bet_settle``,
  outcome ``OK``: replays not counted);
- ``launch_success_rate`` (0..1, a floor): the players' game launches answered without
  failure (the timeseries' endpoints containing ``launch``, or the SLO's endpoint);
- ``unsettled_rounds`` (a count, judged once at the end): rounds with a bet and neither a
  win nor every bet rolled back — the platform audit's ``rounds_settled`` check in
  ``audit.json`` (its wallet knows zero wins, which leave no ledger entry), else the
  ledger export's rounds when it has a ``round_id`` column (a platform of your own must
  then write zero wins as rows of amount 0).

An SLO with ``series`` reads that series instead (:func:`telemetry_values`). An
end-of-run value sits at the run's last second, NaN elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikekit.analysis import series as s
from spikekit.analysis.rundir import RunData
from spikekit.scenarios.slo import SLO, SeriesRef, SLOMetric, TelemetrySeries

DEPOSITS = TelemetrySeries(
    metric="payments_completion_p95_ms", labels={"kind": ["deposit"], "status": ["completed"]}
)
WITHDRAWALS = TelemetrySeries(
    metric="payments_completion_p95_ms", labels={"kind": ["withdrawal"], "status": ["completed"]}
)
ROLLBACKS = TelemetrySeries(
    metric="wallet_transactions_per_s",
    labels={"operation": ["rollback"], "outcome": ["OK"]},
    per=SeriesRef(
        metric="wallet_transactions_per_s",
        labels={"operation": ["debit", "bet_settle"], "outcome": ["OK"]},
    ),
)
DEFAULT_SERIES = {
    SLOMetric.DEPOSIT_COMPLETION_P95: DEPOSITS,
    SLOMetric.WITHDRAWAL_COMPLETION_P95: WITHDRAWALS,
    SLOMetric.ROUND_ROLLBACK_RATE: ROLLBACKS,
}
ROUNDS_CHECK = "rounds_settled"  # the platform audit's check (reference_platform/audit.py)

_QUANTILE = re.compile(r"^(?P<base>.+)_p\d+_ms$")
_LABEL = re.compile(r"(?:^|,)([a-zA-Z_][a-zA-Z0-9_]*)=")


def parse_labels(text: str) -> dict[str, str]:
    """The ``labels`` column (``k=v,k=v``) as a mapping; a value may hold commas."""
    marks = list(_LABEL.finditer(text))
    labels = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        labels[mark.group(1)] = text[mark.end() : end]
    return labels


def matching_rows(metrics: Any, ref: SeriesRef, service: str | None = None) -> Any:
    """The rows of ``ref``'s metric (of its service, else ``service``) with its labels."""
    rows = s.metric_rows(metrics, ref.metric, ref.service or service)
    if not ref.labels or not len(rows):
        return rows
    texts = rows["labels"].astype(str)
    accepted = [text for text in texts.unique() if ref.accepts(parse_labels(text))]
    return rows[texts.isin(accepted)]


def _worst_per_second(rows: Any, n: int, floor: bool) -> s.Floats:
    out = np.full(n, np.nan, dtype=np.float64)
    if n == 0 or not len(rows):
        return out
    grouped = rows.groupby("t", observed=True)["value"].agg("min" if floor else "max")
    index = grouped.index.to_numpy(dtype=np.int64)
    keep = (index >= 0) & (index < n)
    out[index[keep]] = grouped.to_numpy(dtype=np.float64)[keep]
    return out


def _weighted(run: RunData, series: TelemetrySeries, rows: Any, n: int, window: int) -> Any:
    """A histogram's ``_pNN_ms`` weighted by its ``_per_s`` rate, or None without one."""
    match = _QUANTILE.match(series.metric)
    if match is None:
        return None
    counts = SeriesRef(
        metric=f"{match.group('base')}_per_s", service=series.service, labels=series.labels
    )
    weights = matching_rows(run.platform_metrics, counts)
    if not len(weights):
        return None
    keys = ["t", "service", "labels"]
    both = rows[[*keys, "value"]].merge(
        weights[[*keys, "value"]].rename(columns={"value": "w"}), on=keys
    )
    both = both[both["w"] > 0]
    top = s.per_second(both.assign(vw=both["value"] * both["w"]), "vw", n)
    return s.rolling_ratio(top, s.per_second(both, "w", n), window)


def telemetry_values(
    run: RunData, series: TelemetrySeries, n: int, window: int, *, floor: bool, at_end: bool
) -> s.Floats:
    """The rolling value of ``series`` each second (see :class:`TelemetrySeries`)."""
    metrics = run.platform_metrics
    rows = matching_rows(metrics, series)
    if at_end:
        out = np.full(n, np.nan, dtype=np.float64)
        worst = _worst_per_second(rows, n, floor)
        present = np.flatnonzero(~np.isnan(worst))
        if n and len(present):
            out[n - 1] = worst[present[-1]] * series.factor
        return out
    if series.per is not None:
        bottom = matching_rows(metrics, series.per, series.service)
        values = s.rolling_ratio(
            s.per_second(rows, "value", n), s.per_second(bottom, "value", n), window
        )
    else:
        weighted = _weighted(run, series, rows, n, window) if len(rows) else None
        if weighted is None:
            weighted = s.rolling_mean(_worst_per_second(rows, n, floor), window)
        values = weighted
    result: s.Floats = values * series.factor
    return result


def _launch_rows(run: RunData, endpoint: str) -> Any:
    frame = run.timeseries
    if endpoint != "*":
        return s.endpoint_rows(frame, endpoint)
    names = frame["endpoint"].astype(str)
    return frame[names.str.contains("launch", case=False) & (names != "*")]


def launch_success(run: RunData, endpoint: str, n: int, window: int) -> s.Floats:
    """1 - failures / launches over the window; NaN without launches."""
    rows = _launch_rows(run, endpoint)
    failures = s.per_second(rows, "failures", n)
    requests = s.per_second(rows, "requests", n)
    return 1.0 - s.rolling_ratio(failures, requests, window)


_COUNT = re.compile(r"^\s*(\d+)\b")


def _audit_open_rounds(run: RunData) -> int | None:
    """Open rounds by the platform audit's ``rounds_settled`` check, None without one.

    Its detail starts with the full count ("12 round(s) with a bet ..."); the offending ids
    are capped, so they count only when the detail does not say.
    """
    if run.audit is None:
        return None
    check = next((c for c in run.audit.checks if c.name == ROUNDS_CHECK), None)
    if check is None:
        return None
    if check.ok:
        return 0
    said = _COUNT.match(check.detail)
    return int(said.group(1)) if said else len(check.offending_ids)


def ledger_open_rounds(ledger: Any) -> int | None:
    """Rounds of the ledger export with a bet, no win and not every bet rolled back;
    None when the export has no ``round_id`` column."""
    if ledger is None or "round_id" not in ledger.columns:
        return None
    rounds = ledger[ledger["round_id"].notna()]
    kinds = rounds["kind"].astype(str)
    bets = rounds[kinds == "bet"]
    if not len(bets):
        return 0
    refunded = set(ledger.loc[ledger["kind"].astype(str) == "rollback", "ref_tx_id"].dropna())
    refunded = {str(x) for x in refunded}
    won = set(rounds.loc[kinds == "win", "round_id"].astype(str))
    open_bets = bets[~bets["tx_id"].astype(str).isin(refunded)]
    open_rounds = set(open_bets["round_id"].astype(str)) - won
    return len(open_rounds)


def open_rounds(run: RunData) -> int | None:
    """Rounds left unsettled at the end of the run, by the audit, else by the ledger."""
    counted = _audit_open_rounds(run)
    return counted if counted is not None else ledger_open_rounds(run.ledger)


def unsettled_rounds(run: RunData, n: int) -> s.Floats:
    """:func:`open_rounds` at the run's last second, NaN elsewhere (and without a count)."""
    out = np.full(n, np.nan, dtype=np.float64)
    count = open_rounds(run)
    if n and count is not None:
        out[n - 1] = float(count)
    return out


def business_values(run: RunData, slo: SLO, n: int, window: int | None = None) -> s.Floats:
    """The value each second of a business (or ``series``-mapped) SLO."""
    window = slo.window_s if window is None else window
    series = slo.series or DEFAULT_SERIES.get(slo.metric)
    if series is not None:
        return telemetry_values(run, series, n, window, floor=slo.is_floor, at_end=slo.at_end)
    if slo.metric is SLOMetric.LAUNCH_SUCCESS_RATE:
        return launch_success(run, slo.endpoint, n, window)
    if slo.metric is SLOMetric.UNSETTLED_ROUNDS:
        return unsettled_rounds(run, n)
    raise ValueError(f"{slo.metric.value} is not a business metric")


@dataclass(frozen=True)
class BusinessFigures:
    """The business SLIs over the whole run (None: nothing to measure)."""

    deposit_completion_p95_ms: float | None
    withdrawal_completion_p95_ms: float | None
    launch_success_rate: float | None
    round_rollback_rate: float | None
    unsettled_rounds: int | None


def _whole_run(run: RunData, metric: SLOMetric) -> float | None:
    """The value over the whole run, through the scenario's first SLO of ``metric`` (its
    ``series`` and endpoint) or the bundled platform's source."""
    n = run.duration_s
    if n == 0:
        return None
    slo = next((x for x in run.slos if x.metric is metric), None)
    slo = slo or SLO(name=metric.value, metric=metric, threshold=0)
    values = business_values(run, slo, n, window=n)
    last = float(values[n - 1])
    return None if np.isnan(last) else last


def business_figures(run: RunData) -> BusinessFigures:
    unsettled = _whole_run(run, SLOMetric.UNSETTLED_ROUNDS)
    return BusinessFigures(
        deposit_completion_p95_ms=_whole_run(run, SLOMetric.DEPOSIT_COMPLETION_P95),
        withdrawal_completion_p95_ms=_whole_run(run, SLOMetric.WITHDRAWAL_COMPLETION_P95),
        launch_success_rate=_whole_run(run, SLOMetric.LAUNCH_SUCCESS_RATE),
        round_rollback_rate=_whole_run(run, SLOMetric.ROUND_ROLLBACK_RATE),
        unsettled_rounds=None if unsettled is None else round(unsettled),
    )
