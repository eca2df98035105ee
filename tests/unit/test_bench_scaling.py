"""The scaling bench's pure parts: its scenario, the part it scales, its figures' file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import scaling
from spikekit.plan.measured import Counted, ScalingFigures, read_scaling, write_scaling
from spikekit.plan.sizing import Range
from spikekit.scenarios import Scenario


def test_each_step_is_a_valid_scenario_with_the_replicas_and_patient_players() -> None:
    document = scaling.scenario("wallet", 3, 300, 35)
    scenario = Scenario.model_validate(document)
    assert scenario.target.replicas_of("wallet") == 3  # type: ignore[union-attr]
    assert scenario.impatience.retry_on_failure == 0 and scenario.impatience.max_retries == 0
    assert scenario.peak_players == 300


def test_the_scaled_part_is_a_service_of_the_stack() -> None:
    part = scaling.hottest_service()
    assert part in {"gateway", "wallet", "router", "auth", "provider", "payments", "reporting"}


def test_figures_round_trip_and_give_per_request_counts(tmp_path: Path) -> None:
    figures = ScalingFigures(
        part="wallet",
        steps={1: [100.0, 104.0], 2: [150.0], 3: [170.0]},
        checked_replicas=4,
        checked_served=[180.0, 176.0],
        predicted_checked=171.0,
        commits=[Counted(count=200, requests=100), Counted(count=330, requests=150)],
        commands=[],
        date="2026-12-02",
        source="test",
        cores=2,
    )
    path = write_scaling(figures, tmp_path / "scaling.json")
    back = read_scaling(path)
    assert back == figures
    assert back.per_request(back.commits) == Range(2.12, 2.0, 2.2)
    assert back.per_request(back.commands) is None
    assert back.check_error() == pytest.approx((171.0 - 178.0) / 178.0)
    assert read_scaling(tmp_path / "absent.json") is None
