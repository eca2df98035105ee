"""The business SLIs on hand-made run data: deposits and withdrawals completed, launches,
rollbacks, unsettled rounds, and ``series`` mappings for a platform of one's own."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spikekit.analysis.analyse import analyse
from spikekit.analysis.business import (
    business_figures,
    ledger_open_rounds,
    open_rounds,
    parse_labels,
)
from spikekit.analysis.recovery import analyse_faults
from spikekit.analysis.rundir import RunData, load_run
from spikekit.analysis.slo import evaluate_slo, evaluate_slos
from spikekit.analysis.synthetic import (
    Disturbance,
    SyntheticFault,
    SyntheticRun,
    default_slos,
    write_synthetic_run,
)
from spikekit.rundir.frames import AuditCheck, PlatformAudit
from spikekit.scenarios.slo import SLO, SLOMetric, TelemetrySeries

N = 40
Row = tuple[int, str, str, str, float]


@pytest.fixture
def base(tmp_path: Path) -> RunData:
    spec = SyntheticRun(duration_s=N, ramp=(0.0, 0.1), transactions=20)
    return load_run(write_synthetic_run(tmp_path / "run", spec))


def with_metrics(run: RunData, rows: list[Row]) -> RunData:
    frame = pd.DataFrame(rows, columns=["t", "service", "metric", "labels", "value"])
    for column in ("service", "metric", "labels"):
        frame[column] = frame[column].astype("category")
    return dataclasses.replace(run, platform_metrics=frame)


def completions(
    t: int, instance: str, kind: str, status: str, p95: float, rate: float
) -> list[Row]:
    labels = f"instance={instance},kind={kind},status={status}"
    return [
        (t, "payments-worker", "payments_completion_p95_ms", labels, p95),
        (t, "payments-worker", "payments_completion_per_s", labels, rate),
    ]


def slo(metric: SLOMetric, threshold: float, **extra: object) -> SLO:
    return SLO.model_validate(
        {"name": metric.value, "metric": metric, "threshold": threshold, "window_s": 1, **extra}
    )


def test_deposit_completion_is_the_completed_deposits_p95_weighted_by_completions(
    base: RunData,
) -> None:
    rows: list[Row] = []
    for t in range(N):
        slow = 20 <= t < 25  # the queue drains a backlog: long waits
        rows += completions(t, "w1", "deposit", "completed", 9000 if slow else 300, 3.0)
        rows += completions(t, "w2", "deposit", "completed", 500, 1.0)
        rows += completions(t, "w1", "deposit", "failed", 60000, 5.0)  # declined: not credited
        rows += completions(t, "w1", "withdrawal", "completed", 1200, 1.0)
    run = with_metrics(base, rows)
    deposits = evaluate_slo(run, slo(SLOMetric.DEPOSIT_COMPLETION_P95, 5000))
    assert deposits.values[10] == pytest.approx((300 * 3 + 500 * 1) / 4)
    assert deposits.values[22] == pytest.approx((9000 * 3 + 500 * 1) / 4)
    assert list(np.flatnonzero(deposits.breached)) == list(range(20, 25))
    withdrawals = evaluate_slo(run, slo(SLOMetric.WITHDRAWAL_COMPLETION_P95, 1000))
    assert withdrawals.values[5] == pytest.approx(1200) and withdrawals.breached.all()
    figures = business_figures(run)
    expected = (5 * (9000 * 3 + 500) + 35 * (300 * 3 + 500)) / (40 * 4)
    assert figures.deposit_completion_p95_ms == pytest.approx(expected)
    assert figures.withdrawal_completion_p95_ms == pytest.approx(1200)


def test_no_completion_is_no_value_not_a_breach(base: RunData) -> None:
    rows = [r for t in range(0, 10) for r in completions(t, "w1", "deposit", "completed", 9e4, 1)]
    run = with_metrics(base, rows)
    deposits = evaluate_slo(run, slo(SLOMetric.DEPOSIT_COMPLETION_P95, 5000))
    assert deposits.breached[:10].all() and not deposits.breached[10:].any()
    assert np.isnan(deposits.values[10:]).all()
    assert business_figures(run).withdrawal_completion_p95_ms is None


def transactions(t: int, operation: str, outcome: str, rate: float) -> Row:
    labels = f"instance=wallet-1,operation={operation},outcome={outcome}"
    return (t, "wallet", "wallet_transactions_per_s", labels, rate)


def test_round_rollback_rate_is_rollbacks_applied_per_bet_applied(base: RunData) -> None:
    rows: list[Row] = []
    for t in range(N):
        timing_out = 15 <= t < 20
        rows.append(transactions(t, "debit", "OK", 30.0))
        rows.append(transactions(t, "bet_settle", "OK", 70.0))
        rows.append(transactions(t, "rollback", "OK", 25.0 if timing_out else 1.0))
        rows.append(transactions(t, "rollback", "replayed", 50.0))  # a retry: not counted
        rows.append(transactions(t, "credit", "OK", 40.0))  # a win: not a bet
    run = with_metrics(base, rows)
    rollbacks = evaluate_slo(run, slo(SLOMetric.ROUND_ROLLBACK_RATE, 0.05))
    assert rollbacks.values[3] == pytest.approx(0.01)
    assert rollbacks.values[17] == pytest.approx(0.25)
    assert list(np.flatnonzero(rollbacks.breached)) == list(range(15, 20))
    assert business_figures(run).round_rollback_rate == pytest.approx((5 * 25 + 35) / 4000)


def test_launch_success_rate_is_a_floor_over_the_launches(tmp_path: Path) -> None:
    spec = SyntheticRun(
        duration_s=N,
        ramp=(0.0, 0.1),
        disturbances=(Disturbance(10, 16, endpoint="launch", error_rate=0.4),),
    )
    run = load_run(write_synthetic_run(tmp_path / "run", spec))
    launches = evaluate_slo(run, slo(SLOMetric.LAUNCH_SUCCESS_RATE, 0.9))
    assert list(np.flatnonzero(launches.breached)) == list(range(10, 16))
    assert launches.values[12] == pytest.approx(0.6, abs=0.02)
    assert launches.values[30] == pytest.approx(1.0)
    assert launches.worst() == pytest.approx(launches.values[10:16].min())
    whole = business_figures(run).launch_success_rate
    assert whole is not None and 0.9 < whole < 1.0
    one = slo(SLOMetric.LAUNCH_SUCCESS_RATE, 0.9, endpoint="GET /api/lobby")
    assert not evaluate_slo(run, one).breached.any()  # another endpoint, untouched


def rounds_audit(ok: bool, detail: str, ids: list[str]) -> PlatformAudit:
    checks = [AuditCheck(name="rounds_settled", ok=ok, detail=detail, offending_ids=ids)]
    return PlatformAudit(ok=ok, checks=checks)


def test_unsettled_rounds_come_from_the_platform_audit_at_the_last_second(
    base: RunData,
) -> None:
    detail = "1200 round(s) with a bet but neither a win nor a rollback (first 1000 listed)"
    many = dataclasses.replace(base, audit=rounds_audit(False, detail, ["aurora:r"] * 1000))
    assert open_rounds(many) == 1200
    values = evaluate_slo(many, slo(SLOMetric.UNSETTLED_ROUNDS, 0)).values
    assert values[N - 1] == 1200 and np.isnan(values[: N - 1]).all()
    few = dataclasses.replace(base, audit=rounds_audit(False, "odd detail", ["a:1", "a:2"]))
    assert open_rounds(few) == 2
    clean = dataclasses.replace(base, audit=rounds_audit(True, "every round settled", []))
    assert open_rounds(clean) == 0
    assert open_rounds(base) is None  # no such check, no round_id in the ledger: not known
    assert business_figures(base).unsettled_rounds is None


def test_unsettled_rounds_from_a_ledger_with_round_ids() -> None:
    ledger = pd.DataFrame(
        [
            ("s:a-bet", "bet", "a", None),
            ("s:a-win", "win", "a", None),  # settled by a win
            ("s:b-bet", "bet", "b", None),
            ("s:b-rb", "rollback", "b", "s:b-bet"),  # rolled back
            ("s:c-bet", "bet", "c", None),  # open
            ("s:d-bet1", "bet", "d", None),
            ("s:d-bet2", "bet", "d", None),
            ("s:d-rb", "rollback", "d", "s:d-bet1"),  # one of two bets rolled back: open
            ("dep-1", "deposit", None, None),
        ],
        columns=["tx_id", "kind", "round_id", "ref_tx_id"],
    )
    assert ledger_open_rounds(ledger) == 2
    assert ledger_open_rounds(ledger.drop(columns=["round_id"])) is None
    assert ledger_open_rounds(ledger[ledger["kind"] == "deposit"]) == 0


def test_an_end_of_run_breach_fails_the_run_and_is_no_faults_breach(tmp_path: Path) -> None:
    """The last fault's impact window runs to the end: it must not excuse the count, and
    the count must not turn the fault's outcome or its recovery into something else."""
    unsettled = SLO(name="unsettled", metric=SLOMetric.UNSETTLED_ROUNDS, threshold=0)
    spec = SyntheticRun(
        duration_s=N,
        ramp=(0.0, 0.1),
        faults=(SyntheticFault("late", 30, 36),),
        disturbances=(Disturbance(30, 36, error_rate=0.5),),
        slos=(*default_slos(), unsettled),
        stable_s=10,  # not recovered before the end: the impact window reaches the end
    )
    run = load_run(write_synthetic_run(tmp_path / "run", spec))
    run = dataclasses.replace(run, audit=rounds_audit(False, "3 round(s) ...", ["a", "b", "c"]))
    analysis = analyse(run)
    result = next(r for r in analysis.slos if r.series.slo.at_end)
    assert not result.passed and result.unexcused_seconds == 1
    assert result.first_unexcused_t == N - 1 and result.worst_value == 3
    fault = analysis.faults[0]
    assert "unsettled" not in fault.breached_slos and fault.peak_slo != "unsettled"
    without = [e for e in evaluate_slos(run) if not e.slo.at_end]
    assert analyse_faults(run, without) == analysis.faults

    settled = dataclasses.replace(run, audit=rounds_audit(True, "ok", []))
    assert next(r for r in analyse(settled).slos if r.series.slo.at_end).passed


def test_a_series_maps_a_business_sli_to_a_platform_of_ones_own(base: RunData) -> None:
    rows: list[Row] = []
    for t in range(N):
        rows.append((t, "payments", "deposit_seconds_p95", "region=eu", 2.0 if t < 30 else 9.0))
        rows.append((t, "payments", "deposit_seconds_p95", "region=us", 1.0))
        rows.append((t, "other", "deposit_seconds_p95", "region=eu", 99.0))  # another service
        rows.append((t, "games", "launches_ok_per_s", "", 9.0))
        rows.append((t, "games", "launches_per_s", "", 10.0))
        rows.append((t, "games", "open_rounds", "shard=a,b", 4.0 if t < N - 2 else 2.0))
        rows.append((t, "games", "open_rounds", "shard=c", 1.0))
    run = with_metrics(base, rows)
    series = {"metric": "deposit_seconds_p95", "service": "payments", "factor": 1000}
    deposits = evaluate_slo(run, slo(SLOMetric.DEPOSIT_COMPLETION_P95, 5000, series=series))
    assert deposits.values[0] == pytest.approx(2000)  # the worst region, in ms
    assert list(np.flatnonzero(deposits.breached)) == list(range(30, N))
    us = {**series, "labels": {"region": "us"}}
    assert not evaluate_slo(
        run, slo(SLOMetric.DEPOSIT_COMPLETION_P95, 5000, series=us)
    ).breached.any()

    ratio = {"metric": "launches_ok_per_s", "per": "launches_per_s"}
    launches = evaluate_slo(run, slo(SLOMetric.LAUNCH_SUCCESS_RATE, 0.95, series=ratio))
    assert launches.values[5] == pytest.approx(0.9) and launches.breached.all()

    rounds = slo(SLOMetric.UNSETTLED_ROUNDS, 1, series={"metric": "open_rounds"})
    values = evaluate_slo(run, rounds).values
    assert values[N - 1] == 2.0 and np.isnan(values[: N - 1]).all()  # the worst shard, last
    shard = slo(
        SLOMetric.UNSETTLED_ROUNDS, 1, series={"metric": "open_rounds", "labels": {"shard": "a,b"}}
    )
    assert evaluate_slo(run, shard).values[N - 1] == 2.0

    mapped = dataclasses.replace(
        run, slos=[slo(SLOMetric.DEPOSIT_COMPLETION_P95, 5000, series=series), rounds]
    )
    figures = business_figures(mapped)
    assert figures.deposit_completion_p95_ms == pytest.approx((30 * 2000 + 10 * 9000) / N)
    assert figures.unsettled_rounds == 2


def test_a_series_on_wallet_latency_replaces_the_bundled_name(base: RunData) -> None:
    rows = [(t, "w", "tx_latency_ms", "", 50.0 if t < 20 else 500.0) for t in range(N)]
    run = with_metrics(base, rows)
    wallet = slo(SLOMetric.WALLET_LATENCY_P95, 100, series=TelemetrySeries(metric="tx_latency_ms"))
    assert list(np.flatnonzero(evaluate_slo(run, wallet).breached)) == list(range(20, N))


def test_labels_text_with_commas_in_values() -> None:
    assert parse_labels("instance=a,shard=x,y,z=1") == {"instance": "a", "shard": "x,y", "z": "1"}
    assert parse_labels("") == {}
    assert parse_labels("k=") == {"k": ""}
