"""Every built-in scenario and the template load, validate and round-trip."""

from __future__ import annotations

import pytest

from spikekit.scenarios import (
    builtin_names,
    dump_scenario,
    load_scenario,
    parse_scenario,
    shape_for,
)
from spikekit.scenarios.faults import FAULT_TYPES
from spikekit.scenarios.model import Scenario
from spikekit.scenarios.shape import ClosedShape, OpenShape
from spikekit.scenarios.slo import SLOMetric
from spikekit.scenarios.stages import ClosedLoad, OpenLoad
from spikekit.scenarios.template import render_template

EXPECTED = {
    "baseline",
    "influencer-spike",
    "sports-final",
    "jackpot-promo",
    "regional-launch",
    "provider-meltdown",
    "db-brownout",
    "queue-overload",
    "cache-stampede",
    "smoke",
    "demo",
}
CRITICAL = {"POST /api/login", "GET /api/lobby", "POST /api/deposits", "GET /api/balance"}


def test_the_built_ins_are_the_documented_ones() -> None:
    assert set(builtin_names()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_built_in_loads_and_round_trips(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description
    assert scenario.slos, "every built-in says what surviving means"
    assert any(slo.metric is SLOMetric.ERROR_RATE for slo in scenario.slos)
    assert parse_scenario(dump_scenario(scenario), "dumped") == scenario


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_built_in_shape_follows_its_stages(name: str) -> None:
    scenario = load_scenario(name)
    shape = shape_for(scenario)
    assert shape.duration_s == scenario.planned_duration_s
    assert shape.target_players(scenario.planned_duration_s) is None
    if isinstance(scenario.load, ClosedLoad):
        assert isinstance(shape, ClosedShape)
        assert shape.peak_players() == scenario.peak_players
        t = 0.0
        assert shape.tick(0) is not None
        for stage in scenario.load.stages:
            t += stage.duration
            end_tick = shape.tick(t - 1e-6)
            assert end_tick is not None
            assert abs(end_tick.users - stage.players) <= max(1, stage.players * 0.01)
    else:
        assert isinstance(shape, OpenShape)
        assert isinstance(scenario.load, OpenLoad)
        assert shape.arrival_rate(0) == scenario.load.start_arrivals_per_s


def test_influencer_spike_is_8k_to_120k_in_3_minutes() -> None:
    shape = shape_for(load_scenario("influencer-spike"))
    assert isinstance(shape, ClosedShape)
    rise_starts = next(s.start_s for s in shape.curve.segments if s.end_level > s.start_level)
    tick = shape.tick(rise_starts)
    assert tick is not None
    assert tick.users == 8000
    assert tick.spawn_rate == pytest.approx(121.27, abs=0.01)
    assert shape.target_players(rise_starts + 180) == 120_000


def test_smoke_is_under_a_minute_and_tiny() -> None:
    smoke = load_scenario("smoke")
    assert smoke.planned_duration_s < 60
    assert smoke.peak_players <= 100


def test_slot_players_of_the_jackpot_promo_spin_at_a_rhythm() -> None:
    paced = {name for name in EXPECTED if load_scenario(name).think_time.pacing}
    assert paced == {"jackpot-promo"}
    assert not parse_scenario(render_template("x.yaml", "x"), "template").think_time.pacing


def test_critical_endpoints_have_latency_slos_somewhere() -> None:
    endpoints = {slo.endpoint for name in EXPECTED for slo in load_scenario(name).slos}
    assert endpoints >= CRITICAL | {
        "POST /api/games/{game}/launch",
        "POST /api/games/{game}/rounds",
    }


def test_chaos_built_ins_carry_their_faults() -> None:
    families = {
        name: {fault.family.value for fault in load_scenario(name).faults}
        for name in ("provider-meltdown", "db-brownout", "queue-overload", "cache-stampede")
    }
    assert families == {
        "provider-meltdown": {"provider", "network"},
        "db-brownout": {"database"},
        "queue-overload": {"queue"},
        "cache-stampede": {"cache"},
    }


def test_template_validates_and_covers_every_field() -> None:
    scenario = parse_scenario(render_template("new/My Spike.yaml", "My Spike"), "template")
    assert scenario.name == "my-spike"
    text = render_template("x.yaml", "x")
    for field in Scenario.model_fields:
        assert f"\n{field}:" in text, field


def test_catalog_has_every_family() -> None:
    families = {name.split(".")[0] for name in FAULT_TYPES}
    assert families == {"network", "provider", "database", "cache", "queue", "process", "docker"}
    assert len(FAULT_TYPES) == 30
