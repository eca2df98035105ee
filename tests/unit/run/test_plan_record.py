"""What a run records of the capacity plan: the held steps of its shape, and per step the
prediction of ``spikekit plan`` at that step's players."""

from __future__ import annotations

from pathlib import Path

import pytest

from spikekit.plan.measured import costs_from
from spikekit.reference_platform.capacity import PlatformCapacity
from spikekit.run.capacity_check import holding_of, rps_per_player
from spikekit.run.options import RunOptions
from spikekit.run.plan_record import Hold, build_plan, holds, record_plan
from spikekit.rundir.plan import read_plan
from spikekit.scenarios import Scenario
from spikekit.scenarios.target import UrlTarget

CAPACITY = PlatformCapacity(
    knee_players=1000,
    knee_rps=321.0,
    rps_per_player=0.321,
    think_min_s=1.0,
    think_max_s=5.0,
    cpu_ms_per_request=2.0,
    cpu_ms_by_process={"wallet": 0.8, "postgres backends": 0.7, "gateway": 0.5},
    cores=2,
    cpu_model="AMD EPYC",
    date="2026-12-02",
    commit="commit b87e387",
)


def scenario(name: str) -> Scenario:
    return RunOptions(scenario=name).resolve()


def test_each_held_level_is_a_step_without_its_settling_seconds() -> None:
    # demo: 15 players held 0–20 s, a ramp, then 210 players held 70–190 s
    assert holds(scenario("demo")) == [Hold(6.0, 20.0, 15), Hold(80.0, 190.0, 210)]


def test_a_shape_without_a_hold_gives_one_step_at_its_peak() -> None:
    ramp_only = scenario("demo").model_copy(
        update={
            "load": scenario("demo").load.model_copy(
                update={"start_players": 0, "stages": scenario("demo").load.stages[1:2]}
            )
        }
    )
    (step,) = holds(ramp_only)
    assert step.players == 210 and step.start_s == pytest.approx(step.end_s / 2)


def test_every_step_is_predicted_at_its_own_players() -> None:
    s = scenario("demo")
    measured = costs_from(CAPACITY, None)
    assert measured is not None
    plan = build_plan(s, CAPACITY, measured, holds(s))
    per_player = rps_per_player(s, holding_of(CAPACITY, 2, "").answer_s)
    assert [st.rps for st in plan.steps] == pytest.approx([15 * per_player, 210 * per_player])
    wallet = {p.part: p.cores for p in plan.steps[1].parts}["wallet"]
    assert wallet.point == pytest.approx(210 * per_player * 0.8 / 1000)
    assert wallet.low < wallet.point < wallet.high
    assert plan.provenance.commit == "commit b87e387" and plan.provenance.cores == 2
    assert plan.provenance.extrapolated  # the ±15 % and the request mix, at least


def test_a_platform_of_your_own_gets_no_plan(tmp_path: Path) -> None:
    s = scenario("demo")
    own = s.model_copy(update={"target": UrlTarget(url="http://127.0.0.1:9")})
    assert record_plan(tmp_path, own) is None
    assert read_plan(tmp_path) == (None, None)
