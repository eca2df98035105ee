"""Every example we ship is checked by the real tool that consumes it.

- the CI workflow (examples/ci/*.yml) by actionlint, as GitHub would read it;
- every whole scenario shown in the README and in docs/ by ``spikekit scenarios validate``,
  run as a user runs it (a subprocess, its exit code).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"
WORKFLOWS = sorted((ROOT / "examples" / "ci").glob("*.yml"))
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _whole_scenarios(document: Path) -> list[str]:
    """The YAML blocks of a document that are whole scenarios (they start with ``name:``)."""
    blocks = re.findall(r"```yaml\n(.*?)```", document.read_text(encoding="utf-8"), flags=re.S)
    return [block for block in blocks if block.startswith("name:")]


def _actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    if not ACTIONLINT.is_file():
        pytest.fail(f"{ACTIONLINT} is missing: run 'make install' (it builds actionlint with Go)")
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spikekit", "scenarios", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_workflow_is_shipped() -> None:
    assert WORKFLOWS, "examples/ci holds no workflow"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_the_shipped_workflow_passes_actionlint(workflow: Path) -> None:
    result = _actionlint(workflow)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_an_unquoted_colon_in_a_step_name(tmp_path: Path) -> None:
    """The check bites: the defect the shipped workflow once had is refused."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "name: chaos\non: push\njobs:\n  spike:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - name: Smoke: the whole machinery\n        run: make test\n"
    )
    result = _actionlint(broken)
    assert result.returncode != 0
    assert "could not parse as YAML" in result.stdout


def test_the_documents_show_whole_scenarios() -> None:
    found = {doc.name: len(_whole_scenarios(doc)) for doc in DOCUMENTS}
    assert found["README.md"] >= 1
    assert found["scenarios.md"] >= 1


@pytest.mark.parametrize(
    ("document", "number"),
    [(doc, n) for doc in DOCUMENTS for n, _ in enumerate(_whole_scenarios(doc))],
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_each_documented_scenario_validates(document: Path, number: int, tmp_path: Path) -> None:
    path = tmp_path / f"{document.stem}-{number}.yaml"
    path.write_text(_whole_scenarios(document)[number], encoding="utf-8")
    result = _validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_refuses_a_broken_copy(tmp_path: Path) -> None:
    """The check bites: a documented scenario with a typo in a field fails with exit 2."""
    block = _whole_scenarios(ROOT / "README.md")[0]
    path = tmp_path / "typo.yaml"
    path.write_text(block.replace("faults:", "fautls:", 1), encoding="utf-8")
    result = _validate(path)
    assert result.returncode == 2
    assert "fautls" in result.stdout + result.stderr
