"""Each command's reachable exit codes, as documented in spikekit.cli.exit_codes.

0 OK, 1 a judged check failed, 2 usage / configuration / nothing to act on, 3 aborted or
the environment failed. Codes 1 and 3 of ``run`` need a real run: tests/e2e.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spikekit.analysis.synthetic import Disturbance, SyntheticRun, tx_id, write_synthetic_run
from spikekit.cli.exit_codes import ExitCode
from spikekit.cli.main import app
from spikekit.rundir.journal import Journal, RunStarted

runner = CliRunner()
Setup = Callable[[Path], list[str]]


def _failed_run(root: Path) -> Path:
    return write_synthetic_run(
        root / "failed",
        SyntheticRun(
            disturbances=(Disturbance(20, 110, error_rate=0.4),),
            lost_tx_ids=(tx_id(1),),
            duplicated_tx_ids=(tx_id(8),),
        ),
    )


def _passed_run(root: Path) -> Path:
    return write_synthetic_run(root / "passed", SyntheticRun(duration_s=120))


def _slower_passed_run(root: Path) -> Path:
    slower = (Disturbance(0, 60, latency_factor=1.5),)
    return write_synthetic_run(root / "slower", SyntheticRun(disturbances=slower))


def _clean_journal(root: Path) -> Path:
    path = root / "journal.jsonl"
    with Journal(path) as sink:
        sink.write(RunStarted(**sink.stamp(), scenario="by hand", planned_duration_s=0.0))
    return path


def _bomb(root: Path) -> Path:
    """A billion laughs: 9 levels of 9 aliases."""
    path = root / "bomb.yaml"
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    anchor = "a"
    for n in range(8):
        text += f"b{n}: &b{n} [{','.join([f'*{anchor}'] * 9)}]\n"
        anchor = f"b{n}"
    path.write_text(text)
    return path


def _run_dir_with_a_bomb(root: Path) -> Path:
    run = _passed_run(root)
    (run / "scenario.yaml").write_text(_bomb(root).read_text())
    return run


CASES: list[tuple[str, Setup, ExitCode]] = [
    # run
    ("run dry", lambda t: ["run", "smoke", "--dry-run", "--out", str(t)], ExitCode.OK),
    ("run unknown scenario", lambda t: ["run", "nosuch", "--dry-run"], ExitCode.USAGE),
    ("run bad option", lambda t: ["run", "smoke", "--scale", "-1"], ExitCode.USAGE),
    ("run scenario bomb", lambda t: ["run", str(_bomb(t)), "--dry-run"], ExitCode.USAGE),
    # report
    ("report passed", lambda t: ["report", str(_passed_run(t))], ExitCode.OK),
    ("report failed", lambda t: ["report", str(_failed_run(t))], ExitCode.FAILED),
    (
        "report aborted",
        lambda t: ["report", str(write_synthetic_run(t / "a", SyntheticRun(aborted=True)))],
        ExitCode.ABORTED,
    ),
    ("report no such dir", lambda t: ["report", str(t / "absent")], ExitCode.USAGE),
    ("report bomb in run dir", lambda t: ["report", str(_run_dir_with_a_bomb(t))], ExitCode.USAGE),
    # compare
    (
        "compare same",
        lambda t: ["compare", str(_passed_run(t)), str(t / "passed")],
        ExitCode.OK,
    ),
    (
        "compare regressed",
        lambda t: ["compare", str(_passed_run(t)), str(_failed_run(t))],
        ExitCode.FAILED,
    ),
    (
        "compare improved",
        lambda t: ["compare", str(_failed_run(t)), str(_passed_run(t))],
        ExitCode.OK,
    ),
    (  # a better verdict decides the headline: its slower baseline is listed, not gating
        "compare improved with a smaller regression",
        lambda t: ["compare", str(_failed_run(t)), str(_slower_passed_run(t))],
        ExitCode.OK,
    ),
    ("compare no such dir", lambda t: ["compare", str(t), str(t / "absent")], ExitCode.USAGE),
    # scenarios
    ("scenarios list", lambda t: ["scenarios", "list"], ExitCode.OK),
    ("scenarios show", lambda t: ["scenarios", "show", "smoke"], ExitCode.OK),
    ("scenarios show unknown", lambda t: ["scenarios", "show", "nosuch"], ExitCode.USAGE),
    ("scenarios validate", lambda t: ["scenarios", "validate", "smoke"], ExitCode.OK),
    ("scenarios validate bomb", lambda t: ["scenarios", "validate", str(_bomb(t))], ExitCode.USAGE),
    ("scenarios new", lambda t: ["scenarios", "new", str(t / "n.yaml")], ExitCode.OK),
    ("scenarios new exists", lambda t: ["scenarios", "new", str(_bomb(t))], ExitCode.USAGE),
    # chaos
    ("chaos list", lambda t: ["chaos", "list"], ExitCode.OK),
    ("chaos plan", lambda t: ["chaos", "plan", "smoke"], ExitCode.OK),
    ("chaos plan unknown", lambda t: ["chaos", "plan", "nosuch"], ExitCode.USAGE),
    (
        "chaos inject, no platform",
        lambda t: ["chaos", "inject", "network.down", "--target", "db", "--state-dir", str(t)],
        ExitCode.USAGE,
    ),
    ("chaos revert without --all", lambda t: ["chaos", "revert"], ExitCode.USAGE),
    (
        "chaos revert, no journal",
        lambda t: ["chaos", "revert", "--all", "--state-dir", str(t)],
        ExitCode.USAGE,
    ),
    (
        "chaos revert, no run dir",
        lambda t: ["chaos", "revert", "--all", str(t / "x")],
        ExitCode.USAGE,
    ),
    (
        "chaos revert, not a journal",
        lambda t: ["chaos", "revert", "--all", str(_bomb(t))],
        ExitCode.USAGE,
    ),
    (
        "chaos revert, nothing on",
        lambda t: ["chaos", "revert", "--all", str(_clean_journal(t))],
        ExitCode.OK,
    ),
    # platform
    (
        "platform status, none",
        lambda t: ["platform", "status", "--state-dir", str(t)],
        ExitCode.FAILED,
    ),
    ("platform down, none", lambda t: ["platform", "down", "--state-dir", str(t)], ExitCode.OK),
    (
        "platform audit, none",
        lambda t: ["platform", "audit", "--state-dir", str(t)],
        ExitCode.USAGE,
    ),
    (
        "platform audit, database down",
        lambda t: ["platform", "audit", "--dsn", "postgresql://spikekit@127.0.0.1:1/wallet"],
        ExitCode.ABORTED,
    ),
    (
        "platform up, bad replicas",
        lambda t: ["platform", "up", "--replicas", "x=0"],
        ExitCode.USAGE,
    ),
    # worker
    ("worker, bad master", lambda t: ["worker", "--master", " "], ExitCode.USAGE),
]


@pytest.mark.parametrize(("case", "setup", "code"), CASES, ids=[c[0] for c in CASES])
def test_exit_code(case: str, setup: Setup, code: ExitCode, tmp_path: Path) -> None:
    result = runner.invoke(app, setup(tmp_path))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


def test_doctor_exits_1_exactly_when_a_required_check_is_missing() -> None:
    result = runner.invoke(app, ["doctor", "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == (ExitCode.OK if report["ok"] else ExitCode.FAILED)


def test_every_command_has_a_case() -> None:
    covered = {case.split(",")[0].split(" ")[0] for case, _, _ in CASES}
    covered |= {" ".join(case.split(",")[0].split(" ")[:2]) for case, _, _ in CASES}
    for command in ("run", "report", "compare", "worker"):
        assert command in covered
    for group, names in {
        "scenarios": ("list", "show", "validate", "new"),
        "chaos": ("list", "plan", "inject", "revert"),
        "platform": ("status", "down", "audit", "up"),
    }.items():
        for name in names:
            assert f"{group} {name}" in covered, (group, name)


def test_the_readme_table_matches_the_codes() -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"| {int(code)} |" in readme, code
