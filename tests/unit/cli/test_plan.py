"""``spikekit plan``: a table and JSON from the measured costs; exit 2 without them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from spikekit.cli.main import app
from spikekit.reference_platform.capacity import PlatformCapacity, write_capacity

runner = CliRunner()


def _costs(path: Path, **fields: object) -> Path:
    document: dict[str, object] = {
        "knee_players": 400, "knee_rps": 128.0, "rps_per_player": 0.32,
        "think_min_s": 1.0, "think_max_s": 5.0, "cpu_ms_per_request": 4.0,
        "cpu_ms_by_process": {"gateway": 1.0, "postgres backends": 2.0, "toxiproxy": 1.0},
        "cores": 2, "date": "2026-12-02",
    }  # fmt: skip
    document.update(fields)
    return write_capacity(PlatformCapacity.model_validate(document), path)


def test_the_plan_of_the_bundled_platform_names_every_part_and_its_source() -> None:
    result = runner.invoke(app, ["plan", "influencer-spike"])
    assert result.exit_code == 0, result.output
    for part in ("postgres", "wallet", "gateway", "auth", "redis", "load generator (Locust)"):
        assert f"\n{part}\t" in result.output
    assert "peak 120,000 players" in result.output
    assert "measured: bench --only platform" in result.output


def test_json_has_the_parts_the_peak_and_the_extrapolations(tmp_path: Path) -> None:
    costs = _costs(tmp_path / "capacity.json")
    result = runner.invoke(app, ["plan", "baseline", "--costs", str(costs), "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    parts = {p["part"]: p for p in plan["parts"]}
    assert set(parts) == {"gateway", "postgres", "toxiproxy"}
    rps = plan["peak"]["rps"]
    assert parts["gateway"]["cores"]["point"] == rps * 1.0 / 1000
    assert parts["postgres"]["replicas"]["point"] == 1
    assert plan["production_cores"]["point"] < plan["test_cores"]["point"]
    assert plan["measured"]["source"].startswith("bench --only platform, 2026-12-02")


def test_scale_changes_the_peak(tmp_path: Path) -> None:
    costs = str(_costs(tmp_path / "capacity.json"))
    full = json.loads(
        runner.invoke(app, ["plan", "influencer-spike", "--costs", costs, "--json"]).output
    )
    tenth = runner.invoke(
        app, ["plan", "influencer-spike", "--costs", costs, "--json", "--scale", "0.1"]
    )
    assert json.loads(tenth.output)["peak"]["players"] * 10 == full["peak"]["players"]


def test_a_platform_of_ones_own_without_costs_is_refused_saying_what_is_needed() -> None:
    result = runner.invoke(app, ["plan", "baseline", "--target", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "no measured costs for http://127.0.0.1:9" in result.output
    assert "--costs FILE" in result.output


def test_with_costs_a_platform_of_ones_own_is_planned_without_the_bundled_scaling_law(
    tmp_path: Path,
) -> None:
    costs = str(_costs(tmp_path / "capacity.json"))
    result = runner.invoke(
        app, ["plan", "baseline", "--target", "http://127.0.0.1:9", "--costs", costs, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["usl_limit"] is None


def test_costs_without_cpu_by_process_or_broken_are_refused(tmp_path: Path) -> None:
    empty = _costs(tmp_path / "empty.json", cpu_ms_by_process={})
    result = runner.invoke(app, ["plan", "baseline", "--costs", str(empty)])
    assert result.exit_code == 2 and "no measured costs" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"knee_players": -1}')
    result = runner.invoke(app, ["plan", "baseline", "--costs", str(broken)])
    assert result.exit_code == 2 and "broken.json: not a platform capacity figure" in result.output
    assert "Traceback" not in result.output


def test_the_dry_run_sums_the_plan_up_for_the_bundled_platform_only() -> None:
    bundled = runner.invoke(app, ["run", "influencer-spike", "--dry-run"])
    assert bundled.exit_code == 0, bundled.output
    line = next(x for x in bundled.output.splitlines() if x.startswith("capacity plan:"))
    assert "cores for the platform" in line and "`spikekit plan influencer-spike`" in line
    own = runner.invoke(
        app, ["run", "influencer-spike", "--dry-run", "--target", "http://127.0.0.1:9"]
    )
    assert own.exit_code == 0, own.output
    assert "capacity plan:" not in own.output
