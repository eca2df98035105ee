"""The README's "Testing your own platform" shows parts of the worked example's scenarios
(```yml blocks, not whole scenarios): each must still fit the example it comes from."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from spikekit.scenarios import parse_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "own-platform" / "scenario-journeys.yaml"


def _fragments() -> list[dict[str, Any]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Testing your own platform")[1].split("\n## ")[0]
    blocks = re.findall(r"```yml\n(.*?)```", section, flags=re.S)
    return [yaml.safe_load(_dedent(block)) for block in blocks]


def _dedent(block: str) -> str:
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


def test_each_fragment_validates_inside_the_example_scenario() -> None:
    fragments = _fragments()
    assert len(fragments) >= 2  # the journeys, the ledger export
    for fragment in fragments:
        data = yaml.safe_load(EXAMPLE.read_text())
        data.update(fragment)
        scenario = parse_scenario(yaml.safe_dump(data), "README fragment")
        assert scenario.target.model_dump().get("url") == "http://127.0.0.1:8081"
    assert {"players", "target"} <= {key for fragment in fragments for key in fragment}
