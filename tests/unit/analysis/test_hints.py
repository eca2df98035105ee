"""Bottleneck hints, one kind at a time, on synthetic series with thresholds at the edge."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spikekit.analysis.analyse import analyse
from spikekit.analysis.hints import BottleneckHint, HintKind, bottleneck_hints, phases
from spikekit.analysis.rundir import RunData, load_run
from spikekit.analysis.synthetic import Disturbance, SyntheticRun, write_synthetic_run
from spikekit.analysis.verdict import Verdict
from spikekit.reports.build import build_report

N = 300  # the synthetic run's seconds: baseline before ~66 s, spike from ~114 s
Series = tuple[str, str, str, np.ndarray]  # service, metric, labels, values


def window(start: int, end: int, value: float, outside: float = 0.0) -> np.ndarray:
    values = np.full(N, outside)
    values[start:end] = value
    return values


def steady(value: float) -> np.ndarray:
    return np.full(N, value)


@pytest.fixture
def base_run(tmp_path: Path) -> RunData:
    return load_run(write_synthetic_run(tmp_path / "run", SyntheticRun(duration_s=N)))


def with_series(run: RunData, *series: Series) -> RunData:
    frames = [run.platform_metrics]
    for service, metric, labels, values in series:
        frames.append(
            pd.DataFrame(
                {"t": np.arange(N), "service": service, "metric": metric, "labels": labels}
            ).assign(value=values.astype(np.float64))
        )
    return dataclasses.replace(run, platform_metrics=pd.concat(frames, ignore_index=True))


def only(hints: list[BottleneckHint], kind: HintKind) -> list[BottleneckHint]:
    return [h for h in hints if h.kind is kind]


def logins(outcome: str, values: np.ndarray) -> Series:
    return ("auth", "auth_logins_per_s", f"outcome={outcome}", values)


def test_phases_follow_the_player_target(base_run: RunData) -> None:
    names = phases(base_run)
    assert names[0] == "baseline" and names[90] == "ramp" and names[200] == "spike"


def test_auth_overloaded_says_since_when_and_how_much(base_run: RunData) -> None:
    run = with_series(
        base_run,
        logins("ok", steady(20.0)),
        logins("overloaded", window(120, 150, 100.0)),
        logins("rate_limited", steady(0.0)),
    )
    [hint] = only(bottleneck_hints(run), HintKind.AUTH_OVERLOADED)
    assert (hint.service, hint.subject, hint.replica) == ("auth", "auth", None)
    assert (hint.first_t, hint.last_t, hint.seconds, hint.phase) == (120, 149, 30, "spike")
    assert hint.total == 3000 and hint.peak == 100
    assert hint.share == pytest.approx(100 / 120)
    assert "3,000 refused" in hint.detail and "83% of its answers" in hint.detail
    assert not only(bottleneck_hints(run), HintKind.AUTH_RATE_LIMITING)


@pytest.mark.parametrize(
    ("per_s", "seconds", "fires"), [(5.0, 3, True), (5.0, 2, False), (0.9, 30, False)]
)
def test_auth_rate_limiting_needs_three_seconds_of_at_least_one_a_second(
    base_run: RunData, per_s: float, seconds: int, fires: bool
) -> None:
    run = with_series(
        base_run,
        logins("ok", steady(10.0)),
        logins("rate_limited", window(40, 40 + seconds, per_s)),
    )
    hints = only(bottleneck_hints(run), HintKind.AUTH_RATE_LIMITING)
    assert bool(hints) is fires
    if fires:
        assert hints[0].first_t == 40 and hints[0].phase == "baseline"


def test_gateway_backpressure_names_the_replica_and_counts_refusals_in_its_answers(
    base_run: RunData,
) -> None:
    rejected = "gateway_backpressure_rejected_per_s"
    answered = "http_request_duration_per_s"
    route = "method=GET,route=/api/lobby,status=2xx"
    run = with_series(
        base_run,
        ("gateway", rejected, "instance=gateway-1", steady(0.0)),
        ("gateway", rejected, "instance=gateway-2", window(200, 210, 50.0)),
        ("gateway", answered, f"instance=gateway-1,{route}", steady(150.0)),
        ("gateway", answered, f"instance=gateway-2,{route}", steady(150.0)),
    )
    [hint] = only(bottleneck_hints(run), HintKind.GATEWAY_BACKPRESSURE)
    assert (hint.service, hint.replica, hint.subject) == (
        "gateway",
        "gateway-2",
        "gateway (gateway-2)",
    )
    assert hint.total == 500 and hint.share == pytest.approx(50 / 200)


def test_a_studio_refusing_for_capacity_sheds_but_an_injected_fault_does_not(
    base_run: RunData,
) -> None:
    run = with_series(
        base_run,
        (
            "provider-blitz",
            "provider_rejected_per_s",
            "code=OVER_CAPACITY,status=429",
            window(10, 20, 8.0),
        ),
        (
            "provider-aurora",
            "provider_rejected_per_s",
            "code=INJECTED_FAULT,status=500",
            steady(30.0),
        ),
    )
    hints = only(bottleneck_hints(run), HintKind.STUDIO_SHEDDING)
    assert [h.service for h in hints] == ["provider-blitz"]


@pytest.mark.parametrize(("cpu", "fires"), [(89.0, False), (91.0, True), (90.0, True)])
def test_a_process_at_ninety_percent_of_a_core(base_run: RunData, cpu: float, fires: bool) -> None:
    run = with_series(
        base_run,
        ("wallet", "process_cpu_percent", "process=wallet", window(150, 170, cpu, 30.0)),
        ("gateway", "process_cpu_percent", "process=gateway", steady(40.0)),
    )
    hints = only(bottleneck_hints(run), HintKind.PROCESS_CPU)
    assert bool(hints) is fires
    if fires:
        [hint] = hints
        assert (hint.service, hint.subject, hint.first_t, hint.seconds) == (
            "wallet",
            "wallet",
            150,
            20,
        )
        assert hint.phase == "spike" and hint.peak == cpu


def test_two_seconds_of_a_busy_core_are_not_saturation(base_run: RunData) -> None:
    spikes = window(100, 102, 99.0, 20.0) + window(110, 112, 79.0)
    run = with_series(base_run, ("router", "process_cpu_percent", "process=router", spikes))
    assert not only(bottleneck_hints(run), HintKind.PROCESS_CPU)


def test_a_replica_process_is_named(base_run: RunData) -> None:
    run = with_series(
        base_run,
        ("auth", "process_cpu_percent", "process=auth-1", steady(50.0)),
        ("auth", "process_cpu_percent", "process=auth-2", window(20, 60, 150.0)),
    )
    [hint] = only(bottleneck_hints(run), HintKind.PROCESS_CPU)
    assert (hint.service, hint.replica) == ("auth", "auth-2") and hint.peak == 150


def test_postgresql_counts_its_backends_and_redis_its_one_process(base_run: RunData) -> None:
    run = with_series(
        base_run,
        ("postgres", "process_cpu_percent", "process=postgres", steady(2.0)),
        ("postgres", "process_tree_cpu_percent", "process=postgres", window(200, 230, 120.0, 5.0)),
        ("redis", "process_cpu_percent", "process=redis", window(200, 205, 95.0, 10.0)),
    )
    hints = bottleneck_hints(run)
    [pg] = only(hints, HintKind.POSTGRES_SATURATED)
    assert (pg.service, pg.first_t, pg.seconds, pg.peak) == ("postgres", 200, 30, 120.0)
    [redis] = only(hints, HintKind.REDIS_SATURATED)
    assert (redis.service, redis.seconds) == ("redis", 5)
    assert not only(hints, HintKind.PROCESS_CPU)


@pytest.mark.parametrize(("in_use", "fires"), [(60.0, True), (57.0, True), (56.0, False)])
def test_db_pool_saturated_says_for_how_long_all_was_taken(
    base_run: RunData, in_use: float, fires: bool
) -> None:
    run = with_series(
        base_run,
        ("auth", "db_pool_in_use", "pool=auth", window(200, 210, in_use, 10.0)),
        ("auth", "db_pool_size", "pool=auth", steady(60.0)),
    )
    hints = [
        h for h in only(bottleneck_hints(run), HintKind.DB_POOL_SATURATED) if h.service == "auth"
    ]
    assert bool(hints) is fires
    if fires:
        [hint] = hints
        assert (hint.first_t, hint.seconds, hint.phase) == (200, 10, "spike")
        full = 10 if in_use == 60 else 0
        assert f"all of them taken for {full} s" in hint.detail


def test_a_failed_run_without_any_hint_says_what_was_looked_at(tmp_path: Path) -> None:
    spec = SyntheticRun(disturbances=(Disturbance(150, 200, error_rate=0.3),))
    result = analyse(load_run(write_synthetic_run(tmp_path / "run", spec)))
    assert result.verdict.verdict is Verdict.FAILED
    [hint] = result.hints
    assert hint.kind is HintKind.UNEXPLAINED
    assert "process CPU" in hint.detail and "DB pools" in hint.detail
    assert "no series recorded (not measured, or never counted): auth logins" in hint.detail


def test_a_failed_run_without_telemetry_says_so(tmp_path: Path) -> None:
    spec = SyntheticRun(disturbances=(Disturbance(150, 200, error_rate=0.3),))
    run_dir = write_synthetic_run(tmp_path / "run", spec)
    (run_dir / "platform_metrics.parquet").unlink()
    built = build_report(run_dir)
    summary = json.loads(built.summary_path.read_text())
    assert summary["verdict"]["verdict"] == "FAILED"
    [hint] = summary["hints"]
    assert hint["kind"] == HintKind.UNEXPLAINED.value
    assert "no platform telemetry" in hint["detail"]
    assert HintKind.UNEXPLAINED.value in built.html.read_text()


@pytest.mark.parametrize(
    "spec",
    [
        SyntheticRun(disturbances=(Disturbance(0, 300, latency_factor=20),)),
        SyntheticRun(aborted=True),
        SyntheticRun(lost_tx_ids=("tx-000001",)),
        SyntheticRun(),
    ],
)
def test_a_failed_verdict_never_comes_with_an_empty_list(
    tmp_path: Path, spec: SyntheticRun
) -> None:
    result = analyse(load_run(write_synthetic_run(tmp_path / "run", spec)))
    if result.verdict.verdict is Verdict.FAILED:
        assert result.hints
    else:
        assert not only(result.hints, HintKind.UNEXPLAINED)


def test_a_failed_run_with_a_hint_gets_no_unexplained_hint(
    tmp_path: Path,
) -> None:
    spec = SyntheticRun(
        disturbances=(Disturbance(150, 200, error_rate=0.3),), generator_cpu_percent=97
    )
    result = analyse(load_run(write_synthetic_run(tmp_path / "run", spec)))
    assert result.verdict.verdict is Verdict.FAILED
    assert [h.kind for h in result.hints] == [HintKind.GENERATOR_OVERLOADED]


def test_summary_carries_service_phase_and_amounts(base_run: RunData, tmp_path: Path) -> None:
    metrics = with_series(
        base_run,
        logins("ok", steady(20.0)),
        logins("overloaded", window(120, 150, 100.0)),
    ).platform_metrics
    run_dir = tmp_path / "run"  # the fixture's run directory, with auth's logins added
    metrics.to_parquet(run_dir / "platform_metrics.parquet", index=False)
    built = build_report(run_dir)
    [hint] = [
        h
        for h in json.loads(built.summary_path.read_text())["hints"]
        if h["kind"] == "auth overloaded"
    ]
    assert hint["service"] == "auth" and hint["phase"] == "spike"
    assert (hint["first_t"], hint["last_t"], hint["total"]) == (120, 149, 3000.0)
    assert "auth overloaded" in built.html.read_text()


def test_a_failed_verdict_names_the_first_bottleneck(tmp_path: Path) -> None:
    spec = SyntheticRun(disturbances=(Disturbance(120, 200, error_rate=0.3),))
    run = load_run(write_synthetic_run(tmp_path / "run", spec))
    result = analyse(
        with_series(run, logins("ok", steady(20.0)), logins("overloaded", window(120, 150, 100.0)))
    )
    assert result.verdict.verdict is Verdict.FAILED
    assert "The first bottleneck hint: auth overloaded (auth) from t=120 s." in (
        result.verdict.paragraph
    )
