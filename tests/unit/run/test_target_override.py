"""``--target URL`` moves a scenario's own platform to another URL and keeps the rest of
its target: the ledger export the wallet audit reads (found running the README's
"Testing your own platform" commands: the audit was silently skipped)."""

from __future__ import annotations

from pathlib import Path

from spikekit.run.options import RunOptions
from spikekit.scenarios.ledger import FileLedger
from spikekit.scenarios.target import UrlTarget

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "own-platform"


def test_target_keeps_the_scenarios_ledger() -> None:
    scenario = RunOptions(
        scenario=str(EXAMPLE / "scenario-journeys.yaml"), target_url="http://127.0.0.1:9001/"
    ).resolve()
    assert isinstance(scenario.target, UrlTarget)
    assert scenario.target.url == "http://127.0.0.1:9001"
    assert isinstance(scenario.target.ledger, FileLedger)
    assert scenario.target.ledger.file.endswith("lucky-ledger.csv")


def test_target_on_a_bundled_scenario_has_no_ledger() -> None:
    scenario = RunOptions(scenario="smoke", target_url="http://127.0.0.1:9001").resolve()
    assert scenario.target == UrlTarget(url="http://127.0.0.1:9001")
