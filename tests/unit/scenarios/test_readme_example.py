"""The scenario the README shows is a valid scenario (the README is documentation users copy)."""

from __future__ import annotations

import re
from pathlib import Path

from spikekit.scenarios import load_scenario

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_scenario_loads(tmp_path: Path) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README shows no scenario"
    for number, block in enumerate(blocks):
        path = tmp_path / f"readme-{number}.yaml"
        path.write_text(block)
        scenario = load_scenario(path)
        assert scenario.faults and scenario.slos
