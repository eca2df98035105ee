"""docs/scenarios.md stays true: its example validates and its catalog lists every fault."""

from __future__ import annotations

import re
from pathlib import Path

from spikekit.scenarios import builtin_names, parse_scenario
from spikekit.scenarios.faults import FAULT_TYPES

DOC = Path(__file__).parents[3] / "docs" / "scenarios.md"


def test_first_example_validates() -> None:
    example = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert example is not None
    scenario = parse_scenario(example.group(1), str(DOC))
    assert scenario.name == "my-spike"


def test_catalog_and_built_ins_are_documented() -> None:
    text = DOC.read_text()
    for fault_type in FAULT_TYPES:
        assert f"| `{fault_type}` |" in text, fault_type
    for name in builtin_names():
        assert f"| `{name}` |" in text, name
