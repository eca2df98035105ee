"""One owner for the run directory: no module outside ``spikekit.rundir`` spells one of its
names, and ``docs/run-directory.md`` lists exactly the entries of the layout."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from spikekit.rundir import layout

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "spikekit"
DOC = ROOT / "docs" / "run-directory.md"

#: The file names of the layout, and the fixed part of each per-worker pattern.
FILE_NAMES = sorted(
    {
        name
        for name in (
            layout.META, layout.SCENARIO, layout.JOURNAL, layout.TIMESERIES, layout.PLAYERS,
            layout.HISTOGRAMS, layout.GENERATOR, layout.PLATFORM_METRICS,
            layout.LATENCY_HISTOGRAMS, layout.LATENCY_HISTOGRAMS_PARTS,
            layout.PLATFORM_METRICS_PARTS, layout.ACKED, layout.UNACKED, layout.AUDIT,
            layout.LEDGER, layout.PAYMENTS, layout.LIVE_NAME, layout.MASTER_LOG,
            layout.LOAD_SCENARIO, layout.REPORT, layout.SUMMARY, layout.JUNIT, layout.COMPARE,
            *(pattern.split("{}")[0] for pattern in (
                layout.WORKER_ACKS, layout.WORKER_UNACKED, layout.WORKER_RAW_SAMPLES,
                layout.METRICS_PART, layout.SPACE_RESERVE,
            )),
        )
    }
)  # fmt: skip
#: Directories of the layout: spelled as ``path / "name"``.
DIR_NAMES = (layout.LOAD_DIR, layout.PLATFORM_DIR)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def spelled(path: Path) -> list[tuple[int, str]]:
    """The layout names ``path`` spells in a string literal (docstrings and Jinja template
    names aside), as (line, name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            right = node.right
            if isinstance(right, ast.Constant) and right.value in DIR_NAMES:
                hits.append((node.lineno, str(right.value)))
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in docstrings or node.value.endswith(".j2"):
            continue
        hits += [(node.lineno, name) for name in FILE_NAMES if name in node.value]
    return hits


def test_no_module_outside_the_package_spells_a_run_directory_name() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("rundir/"):
            continue
        offenders += [f"spikekit/{relative}:{line}: {name!r}" for line, name in spelled(path)]
    assert not offenders, "use spikekit.rundir.layout:\n" + "\n".join(offenders)


def test_the_grep_sees_a_spelled_name(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""journal.jsonl in a docstring is fine."""\n'
        'A = run_dir / "load" / "live.jsonl"\n'
        'B = f"acks-worker-{i}.jsonl"\n'
    )
    assert spelled(module) == [(2, "load"), (2, "live.jsonl"), (3, "acks-worker-")]


def _documented() -> set[str]:
    """The entries the doc's table of files names (``| file | written by | ...``: the first
    column, backquoted)."""
    names: set[str] = set()
    in_table = False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| file | written by |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table:
            names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


@pytest.mark.parametrize("artifact", layout.ARTIFACTS, ids=lambda a: a.name)
def test_every_entry_of_the_layout_is_documented(artifact: layout.Artifact) -> None:
    assert artifact.name in _documented(), f"{artifact.name}: not in {DOC.name}'s table"


def test_every_file_the_doc_lists_is_in_the_layout() -> None:
    listed, known = _documented(), {a.name for a in layout.ARTIFACTS}
    assert listed <= known, f"documented but not in the layout: {sorted(listed - known)}"
