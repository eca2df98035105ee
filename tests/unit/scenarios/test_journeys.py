"""``players``: declarative journeys and locustfiles, validated like the rest of a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from spikekit.errors import ScenarioError
from spikekit.scenarios import load_scenario, parse_scenario

EXAMPLE = Path(__file__).parents[3] / "examples" / "own-platform"

LOGIN: dict[str, Any] = {
    "method": "POST",
    "path": "/v2/sessions",
    "body": {"player": "${player_id}", "pin": "${password}"},
    "expect": [201],
    "once": True,
    "capture": {"token": {"header": "X-Session-Token"}, "wallet": {"json": "wallet_id"}},
}
WAGER: dict[str, Any] = {
    "method": "POST",
    "path": "/v2/wagers",
    "headers": {"X-Session-Token": "${token}", "Idempotency-Key": "${key}"},
    "body": {"wallet": "${wallet}", "stake": {"cents": "${stake}"}},
    "capture": {"wager": {"json": "wager.id"}},
    "transaction": {"kind": "bet", "tx_id": "${wager}", "amount": "${stake}"},
}


def text(players: dict[str, Any]) -> str:
    data = {
        "name": "own",
        "target": {"url": "http://127.0.0.1:8080"},
        "load": {"model": "closed", "stages": [{"duration": "10s", "players": 5}]},
        "players": players,
    }
    return yaml.safe_dump(data, sort_keys=False)


def journey(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"journeys": [{"name": "bettor", "steps": list(steps), **extra}]}


def problems(players: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text(players), "own.yaml")
    return str(caught.value)


def test_a_journey_validates_and_names_its_endpoints() -> None:
    vars_ = {"stake": {"min": 10, "max": 100}}
    scenario = parse_scenario(text(journey(LOGIN, WAGER, vars=vars_)), "own.yaml")
    [bettor] = scenario.players.journeys
    assert [s.endpoint for s in bettor.steps] == ["/v2/sessions", "/v2/wagers"]
    wallet = {"path": "/v2/wallets/${wallet}", "headers": {"X-Session-Token": "${token}"}}
    again = parse_scenario(text(journey(LOGIN, wallet)), "own.yaml")
    assert again.players.journeys[0].steps[1].endpoint == "/v2/wallets/{wallet}"
    assert not scenario.players.builtin and parse_scenario(text({}), "x").players.builtin


def test_an_undefined_name_is_refused_naming_the_step_and_field() -> None:
    message = problems(journey(WAGER))  # no login before: no token, no wallet, no stake
    assert "players.journeys[0]" in message
    assert "steps[0].headers.X-Session-Token" in message and "${token}" in message
    assert "steps[0].body" in message and "${stake}" in message


def test_a_capture_is_only_known_to_later_steps() -> None:
    reuse = {**LOGIN, "once": False, "headers": {"X-Session-Token": "${token}"}}
    assert "steps[0].headers.X-Session-Token" in problems(journey(reuse))


def test_a_transaction_may_use_its_own_step_captures() -> None:
    step = {**WAGER, "headers": {}, "body": None}
    vars_ = {"stake": {"choice": [10, 20]}}
    parse_scenario(text(journey(step, vars=vars_)), "own.yaml")  # ${wager}: its own capture
    bad = {**step, "transaction": {"kind": "bet", "tx_id": "${nope}", "amount": 5}}
    assert "steps[0].transaction.tx_id" in problems(journey(bad))


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"path": "v2/no-slash"}, "steps.0.path"),
        ({"path": "/x/${a.b}"}, "steps.0.path"),
        ({"path": "/x", "method": "BREW"}, "steps.0.method"),
        ({"path": "/x", "expect": [700]}, "steps.0.expect.0"),
        ({"path": "/x", "capture": {"t": {"json": "a", "header": "B"}}}, "steps.0.capture.t"),
        ({"path": "/x", "capture": {"t": {"json": "a[0]"}}}, "steps.0.capture.t.json"),
        ({"path": "/x", "headers": {"Bad Header": "v"}}, "steps.0.headers"),
        ({"path": "/x", "transaction": {"kind": "loan", "tx_id": "1", "amount": 1}}, "kind"),
        ({"path": "/x", "surprise": 1}, "steps.0.surprise"),
    ],
)
def test_a_bad_step_names_its_field(step: dict[str, Any], field: str) -> None:
    dotted = field.replace(".0", "[0]")
    message = problems(journey(step))
    assert field in message or dotted in message, message


def test_players_take_one_way_only() -> None:
    both = {**journey({"path": "/x"}), "locustfile": "x.py"}
    assert "a locustfile or journeys, not both" in problems(both)
    assert "players" in problems({"weights": {"Bettor": 1}})
    twice = {"journeys": [{"name": "a", "steps": [{"path": "/x"}]}] * 2}
    assert "a repeats" in problems(twice)
    assert "once: true" in problems(journey({**LOGIN}))  # nothing played every pass
    assert "built-in" in problems(journey({"path": "/x"}, vars={"key": {"min": 1, "max": 2}}))


def test_a_locustfile_is_resolved_against_the_scenario_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text("# users\n")
    scenario_file = tmp_path / "own.yaml"
    scenario_file.write_text(text({"locustfile": "mine.py"}))
    scenario = load_scenario(scenario_file)
    assert scenario.players.locustfile == str((tmp_path / "mine.py").resolve())


@pytest.mark.parametrize(("name", "expected"), [("gone.py", "not there"), ("x.txt", ".py")])
def test_a_missing_locustfile_is_refused_naming_the_field(
    tmp_path: Path, name: str, expected: str
) -> None:
    (tmp_path / "x.txt").write_text("")
    scenario_file = tmp_path / "own.yaml"
    scenario_file.write_text(text({"locustfile": name}))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_file)
    assert "players.locustfile" in str(caught.value) and expected in str(caught.value)


@pytest.mark.parametrize("name", ["scenario-journeys.yaml", "scenario-locustfile.yaml"])
def test_the_examples_validate(name: str) -> None:
    scenario = load_scenario(EXAMPLE / name)
    assert scenario.faults and not scenario.players.builtin
