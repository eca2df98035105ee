"""Per-second values from Prometheus scrapes: rates, gauges, histogram quantiles."""

from __future__ import annotations

import math

import pytest

from spikekit.telemetry.aliases import aliases_for
from spikekit.telemetry.prometheus import label_text, parse, per_second, quantile

FIRST = """\
# TYPE wallet_transaction_duration_seconds histogram
wallet_transaction_duration_seconds_bucket{operation="debit",le="0.01"} 10.0
wallet_transaction_duration_seconds_bucket{operation="debit",le="0.1"} 10.0
wallet_transaction_duration_seconds_bucket{operation="debit",le="+Inf"} 10.0
wallet_transaction_duration_seconds_count{operation="debit"} 10.0
wallet_transaction_duration_seconds_sum{operation="debit"} 0.05
# TYPE wallet_transactions_total counter
wallet_transactions_total{operation="debit",outcome="OK"} 10.0
# TYPE wallet_db_pool_in_use gauge
wallet_db_pool_in_use 3.0
"""

SECOND = """\
# TYPE wallet_transaction_duration_seconds histogram
wallet_transaction_duration_seconds_bucket{operation="debit",le="0.01"} 10.0
wallet_transaction_duration_seconds_bucket{operation="debit",le="0.1"} 110.0
wallet_transaction_duration_seconds_bucket{operation="debit",le="+Inf"} 110.0
wallet_transaction_duration_seconds_count{operation="debit"} 110.0
wallet_transaction_duration_seconds_sum{operation="debit"} 5.0
# TYPE wallet_transactions_total counter
wallet_transactions_total{operation="debit",outcome="OK"} 210.0
# TYPE wallet_db_pool_in_use gauge
wallet_db_pool_in_use 7.0
"""


def _rows(previous: str | None, current: str, elapsed: float) -> dict[str, float]:
    before = parse(previous) if previous is not None else None
    return {
        f"{metric}{{{label_text(key)}}}": value
        for metric, key, value in per_second(before, parse(current), elapsed)
    }


def test_quantile_interpolates_inside_its_bucket() -> None:
    # 100 observations, all between 10 ms and 100 ms: p50 is halfway through that bucket
    deltas = {0.01: 0.0, 0.1: 100.0, math.inf: 100.0}
    assert quantile(deltas, 0.5) == pytest.approx(0.055)
    assert quantile(deltas, 0.95) == pytest.approx(0.0955)


def test_quantile_beyond_the_last_bucket_is_its_bound_and_empty_is_nan() -> None:
    assert quantile({0.1: 0.0, math.inf: 5.0}, 0.95) == 0.1
    assert math.isnan(quantile({0.1: 0.0, math.inf: 0.0}, 0.5))


def test_first_scrape_gives_only_gauges() -> None:
    assert _rows(None, FIRST, 0.0) == {"wallet_db_pool_in_use{}": 3.0}


def test_counters_become_rates_and_histograms_quantiles_of_the_interval() -> None:
    rows = _rows(FIRST, SECOND, 2.0)
    assert rows["wallet_transactions_per_s{operation=debit,outcome=OK}"] == 100.0
    assert rows["wallet_transaction_duration_per_s{operation=debit}"] == 50.0
    # only the 100 new observations (10-100 ms) count, not the 10 fast earlier ones
    assert rows["wallet_transaction_duration_p95_ms{operation=debit}"] == pytest.approx(95.5)
    assert rows["wallet_db_pool_in_use{}"] == 7.0


def test_a_counter_reset_by_a_restart_is_not_a_negative_rate() -> None:
    rows = _rows(SECOND, FIRST, 1.0)
    assert rows["wallet_transactions_per_s{operation=debit,outcome=OK}"] == 0.0


def test_aliases_give_the_names_the_analysis_reads() -> None:
    key = (("operation", "debit"),)
    assert list(aliases_for("wallet", "wallet_transaction_duration_p95_ms", key, 12.0)) == [
        ("wallet_tx_latency_p95_ms", (("op", "debit"),), 12.0)
    ]
    assert list(aliases_for("wallet", "wallet_db_pool_in_use", (), 3.0)) == [
        ("db_pool_in_use", (("pool", "wallet"),), 3.0)
    ]
    assert list(aliases_for("wallet", "http_request_duration_p95_ms", key)) == []
    provider = (("provider", "aurora"),)
    assert list(aliases_for("router", "router_provider_health_error_rate", provider, 0.25)) == [
        ("provider_health", provider, 0.75)
    ]
