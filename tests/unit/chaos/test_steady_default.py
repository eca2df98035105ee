"""The scenario-wide ``steady_state``: the gate of every fault without its own, which a
fault leaves with ``steady_state: none``; checked when the scenario loads, carried
through a dump and re-read, and shown per fault in the dry run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from spikekit.chaos.resolve import available_for, resolve_faults
from spikekit.chaos.steady import SteadyWindow
from spikekit.chaos.stop import SecondStats
from spikekit.cli.main import app
from spikekit.errors import ScenarioError
from spikekit.scenarios import Scenario, parse_scenario
from spikekit.scenarios.slo import SLOMetric

SCENARIO = """
name: steady-default
load:
  model: closed
  stages:
    - {{duration: 60s, players: 5}}
slos:
  - {{name: error rate, metric: error_rate, threshold: 0.05}}
  - {{name: p95, metric: latency_p95, threshold: 500}}
{default}
faults:
  - {{id: plain, type: provider.latency, at: 10s, duration: 5s, latency_ms: 300}}
  - id: own
    type: provider.latency
    at: 20s
    duration: 5s
    latency_ms: 300
    steady_state: {{slos: [p95], within: 3s}}
  - {{id: out, type: provider.latency, at: 30s, duration: 5s, latency_ms: 300,
     steady_state: {opt_out}}}
"""
DEFAULT = "steady_state: {slos: [error rate], within: 10s}"


def scenario(default: str = DEFAULT, opt_out: str = "none") -> Scenario:
    return parse_scenario(SCENARIO.format(default=default, opt_out=opt_out))


def gates(s: Scenario) -> dict[str, tuple[list[str], float] | None]:
    found: dict[str, tuple[list[str], float] | None] = {}
    for index, fault in enumerate(s.faults):
        gate = s.steady_state_for(fault)
        found[fault.fault_id(index)] = None if gate is None else (gate.slos, gate.within)
    return found


def test_the_default_gates_every_fault_without_its_own_and_none_opts_out() -> None:
    assert gates(scenario()) == {
        "plain": (["error rate"], 10.0),  # the scenario's default
        "own": (["p95"], 3.0),  # its own wins
        "out": None,  # steady_state: none
    }


def test_without_a_default_only_the_fault_with_its_own_is_gated() -> None:
    assert gates(scenario(default="")) == {"plain": None, "own": (["p95"], 3.0), "out": None}


@pytest.mark.parametrize("spelling", ["none", "None", "NONE"])
def test_none_in_any_case_opts_out(spelling: str) -> None:
    assert gates(scenario(opt_out=spelling))["out"] is None


def test_null_takes_the_default_as_if_the_field_were_left_out() -> None:
    assert gates(scenario(opt_out="null"))["out"] == (["error rate"], 10.0)


def test_a_dumped_and_re_read_scenario_keeps_every_gate() -> None:
    s = scenario()
    again = s.with_overrides(scale=0.5)  # model_dump, then validation
    assert gates(again) == gates(s)
    assert Scenario.model_validate(s.model_dump(mode="json")) == s


@pytest.mark.parametrize(
    ("opt_out", "expected"),
    [
        ("off", "or none (no gate"),  # YAML's off is a boolean
        ("skip", "got 'skip'"),
        ("[error rate]", "{slos: [NAME, ...], within: 30s}"),
    ],
)
def test_another_spelling_of_no_gate_is_refused_naming_the_field(
    opt_out: str, expected: str
) -> None:
    with pytest.raises(ScenarioError) as bad:
        scenario(opt_out=opt_out)
    message = str(bad.value)
    assert "faults[2].steady_state:" in message and expected in message


def test_a_default_naming_an_unknown_slo_is_refused_when_the_scenario_loads() -> None:
    with pytest.raises(ScenarioError) as bad:
        scenario(default="steady_state: {slos: [wallet p99]}")
    message = str(bad.value)
    assert "steady_state.slos: one of the SLO names 'error rate', 'p95', got 'wallet p99'" in (
        message
    )


@pytest.mark.parametrize(
    ("default", "field"),
    [
        ("steady_state: {slos: []}", "steady_state.slos"),
        ("steady_state: {slos: [p95], within: 0s}", "steady_state.within"),
        ("steady_state: {slos: [p95], wait: 5s}", "steady_state.wait"),
    ],
)
def test_a_bad_default_names_its_field(default: str, field: str) -> None:
    with pytest.raises(ScenarioError) as bad:
        scenario(default=default)
    assert f"\n  {field}" in str(bad.value)


def test_the_defaults_gate_judges_the_live_window_like_a_faults_own() -> None:
    s = scenario()
    window = SteadyWindow()
    gate = window.gate(s.steady_state_for(s.faults[0]) or pytest.fail("no gate"), s.slos)
    assert gate.within_s == 10.0
    for t in range(5):
        window.feed(SecondStats(t, {(SLOMetric.ERROR_RATE, "*"): 0.5}))
    assert gate.breaches() == ["error rate: 0.5 > 0.05"]


def test_resolution_checks_the_effective_gate_of_each_fault() -> None:
    s = scenario()
    have = available_for(s, toxiproxy_url=None, env={}, find_toxiproxy=lambda: None)
    assert all(r.ok for r in resolve_faults(s, have))


def test_the_dry_run_shows_the_gate_each_fault_runs_under(tmp_path: Path) -> None:
    path = tmp_path / "steady-default.yaml"
    path.write_text(SCENARIO.format(default=DEFAULT, opt_out="none"))
    result = CliRunner().invoke(
        app, ["run", str(path), "--dry-run"], env={"COLUMNS": "400", "NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    table = result.output.split("# faults (what each will touch)\n")[1].splitlines()
    assert table[0].split("\t") == ["fault", "type", "touches", "steady state"]
    gate = {row.split("\t")[0]: row.split("\t")[3] for row in table[1:4]}
    assert gate == {
        "plain": "error rate; waits ≤ 10s (scenario default)",
        "own": "p95; waits ≤ 3s (own)",
        "out": "none (opted out)",
    }
