"""``spikekit report`` and ``spikekit compare`` through the real CLI app."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from spikekit.analysis.synthetic import SyntheticRun, write_synthetic_run
from spikekit.cli.main import app

from .conftest import cascading_spec, contained_spec, degraded_spec, failed_spec

runner = CliRunner()


def test_report_exit_codes(tmp_path: Path) -> None:
    passed = write_synthetic_run(tmp_path / "passed", SyntheticRun(duration_s=120))
    result = runner.invoke(app, ["report", str(passed)])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output and "report.html" in result.output
    assert (passed / "summary.json").is_file() and (passed / "junit.xml").is_file()

    failed = write_synthetic_run(tmp_path / "failed", failed_spec())
    result = runner.invoke(app, ["report", str(failed)])
    assert result.exit_code == 1 and "FAILED" in result.output

    aborted = write_synthetic_run(tmp_path / "aborted", SyntheticRun(duration_s=60, aborted=True))
    result = runner.invoke(app, ["report", str(aborted)])
    assert result.exit_code == 3 and "aborted" in result.output


def test_report_on_a_bad_directory_exits_2_naming_the_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "absent")])
    assert result.exit_code == 2
    broken = write_synthetic_run(tmp_path / "broken", SyntheticRun(duration_s=30))
    (broken / "players.parquet").unlink()
    result = runner.invoke(app, ["report", str(broken)])
    assert result.exit_code == 2
    assert "players.parquet" in result.output.replace("\n", "")


def test_compare_exit_codes(tmp_path: Path) -> None:
    good = write_synthetic_run(tmp_path / "good", degraded_spec())
    bad = write_synthetic_run(tmp_path / "bad", failed_spec())
    out = tmp_path / "cmp.html"
    result = runner.invoke(app, ["compare", str(good), str(good), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    result = runner.invoke(app, ["compare", str(good), str(bad), "--tolerance", "0.1"])
    assert result.exit_code == 1 and "REGRESSED" in result.output
    assert (bad / "compare.html").is_file()
    result = runner.invoke(app, ["compare", str(good), str(tmp_path / "absent")])
    assert result.exit_code == 2


def test_compare_prints_improvements_and_keeps_the_exit_code(tmp_path: Path) -> None:
    bad = write_synthetic_run(tmp_path / "bad", failed_spec())
    good = write_synthetic_run(tmp_path / "good", degraded_spec())
    result = runner.invoke(app, ["compare", str(bad), str(good)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "IMPROVED" in output and "Improvements" in output
    assert "wallet audit" in output and "failed → passed" in output
    assert output.index("IMPROVED") < output.index("Improvements")

    cascading = write_synthetic_run(tmp_path / "cascading", cascading_spec())
    contained = write_synthetic_run(tmp_path / "contained", contained_spec())
    result = runner.invoke(app, ["compare", str(cascading), str(contained)])
    output = " ".join(result.output.split())
    assert "endpoints hurt" in output and "Improvements" in output
    # the contained run fails bets (30 %): its error rate regresses, whatever improved
    assert result.exit_code == 1 and "REGRESSED" in output
