from __future__ import annotations

import pytest

from spikekit.plan.model import MeasuredCosts, kind_of, make_plan, merge_costs
from spikekit.plan.sizing import (
    LARGEST_PRIMARY_CORES,
    PLAYERS_PER_WORKER,
    Cost,
    PartKind,
    Peak,
    Range,
    database_load,
    plan_part,
    replicas_for,
)

PEAK = Peak(players=120_000, rps=40_000.0, knee_rps=100.0)


def test_a_service_needs_its_cores_in_replicas_at_seventy_percent_of_a_core() -> None:
    plan = plan_part(Cost("gateway", PartKind.SERVICE, 1.0, 0.9, 1.2), PEAK)
    assert plan.cores == Range(40.0, 36.0, 48.0)
    assert plan.replicas == Range(58, 52, 69)  # 40 / 0.7 = 57.1 → 58
    assert replicas_for(0.7) == 1 and replicas_for(0.71) == 2 and replicas_for(0.0) == 1


def test_postgres_is_one_primary_and_says_when_no_machine_is_big_enough() -> None:
    small = plan_part(Cost("postgres", PartKind.POSTGRES, 1.0, 1.0, 1.0), PEAK)
    assert small.replicas == Range(1, 1, 1) and "one primary of 58 cores" in small.note
    big_ms = (LARGEST_PRIMARY_CORES + 1) * 1000 / PEAK.rps
    big = plan_part(Cost("postgres", PartKind.POSTGRES, big_ms, big_ms, big_ms), PEAK)
    assert "partition the wallet" in big.note


def test_the_generator_needs_workers_by_cpu_and_by_players() -> None:
    light = plan_part(Cost("load", PartKind.GENERATOR, 0.001, 0.001, 0.001), PEAK)
    assert light.replicas.point == PEAK.players // PLAYERS_PER_WORKER  # 8: by open files
    heavy = plan_part(Cost("load", PartKind.GENERATOR, 0.7, 0.7, 0.7), PEAK)
    assert heavy.replicas.point == 40  # 28 cores / 0.7


def test_the_runs_own_work_does_not_grow_with_the_requests() -> None:
    toolkit = plan_part(Cost("spikekit run", PartKind.TOOLKIT, 4.0, 4.0, 4.0), PEAK)
    assert toolkit.cores.point == pytest.approx(0.4)  # 100 req/s at the knee × 4 ms
    assert toolkit.replicas == Range(1, 1, 1)


def test_commits_against_the_pgbench_ceiling() -> None:
    load = database_load(PEAK, Range(2.0, 1.8, 2.2), ceiling_per_core=2000.0)
    assert load.commits_per_s == Range(80_000.0, 72_000.0, 88_000.0)
    assert load.cores_for_commits == Range(40.0, 36.0, 44.0)
    assert database_load(PEAK, None, 2000.0).commits_per_s is None


def test_processes_of_the_bench_group_into_parts() -> None:
    assert kind_of("postgres backends") is PartKind.POSTGRES
    assert kind_of("load: Locust master") is PartKind.GENERATOR
    assert kind_of("spikekit run (orchestrator, telemetry recorder)") is PartKind.TOOLKIT
    assert kind_of("provider-aurora") is PartKind.SERVICE
    costs = merge_costs(
        {
            "postgres backends": (1.4, 1.2, 1.6),
            "postgres postmaster + background": (0.1, 0.1, 0.1),
            "load: Locust workers": (0.5, 0.4, 0.6),
            "load: Locust master": (0.2, 0.2, 0.2),
            "wallet": (1.3, 1.1, 1.5),
        }
    )
    by_part = {c.part: c for c in costs}
    assert set(by_part) == {"postgres", "load generator (Locust)", "wallet"}
    assert by_part["postgres"].cpu_ms == pytest.approx(1.5)
    assert by_part["load generator (Locust)"].cpu_ms_high == pytest.approx(0.8)
    assert costs[0].part == "postgres"  # the costliest first


def _measured(**extra: object) -> MeasuredCosts:
    costs = merge_costs({"wallet": (1.0, 0.9, 1.1), "toxiproxy": (1.0, 1.0, 1.0)})
    return MeasuredCosts(
        source="test", cores=2, knee_players=350, knee_rps=112.0, rps_per_player=0.32,
        costs=costs, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_plan_names_what_it_extrapolates_and_leaves_test_parts_out_of_production() -> None:
    plan = make_plan("influencer-spike", PEAK, _measured())
    assert plan.production_cores.point == pytest.approx(40.0)  # the wallet only
    assert plan.test_cores.point == pytest.approx(80.0)  # and Toxiproxy
    notes = " ".join(plan.extrapolated)
    assert "343×" in notes and "commits per request: not measured" in notes
    assert plan.redis_commands_per_s is None and plan.usl_limit is None


def test_measured_counts_leave_the_extrapolations() -> None:
    plan = make_plan(
        "x",
        Peak(players=300, rps=96.0),
        _measured(
            commits_per_request=Range(2.0, 2.0, 2.0),
            redis_commands_per_request=Range(5.0, 4.0, 6.0),
            pgbench_commits_per_core=1956.0,
        ),
    )
    assert plan.extrapolated == ()
    assert plan.redis_commands_per_s == Range(480.0, 384.0, 576.0)
    assert plan.database.cores_for_commits is not None
