"""A FAILED run whose peak was beyond this machine's bundled platform says so in its
verdict, summary.json and junit.xml; its exit code stays that of a failure."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from spikekit.analysis.machine import beyond_machine
from spikekit.analysis.synthetic import write_synthetic_run
from spikekit.reference_platform.capacity import PlatformCapacity
from spikekit.reports.build import build_report
from spikekit.reports.summary import read_summary
from spikekit.run.capacity_check import check_fit
from spikekit.rundir.meta import MachineFitRecord, read_meta, write_meta
from spikekit.scenarios import load_scenario

from .conftest import degraded_spec, failed_spec

BENCH = PlatformCapacity(
    knee_players=350,
    knee_rps=112.0,
    rps_per_player=0.32,
    think_min_s=1.0,
    think_max_s=5.0,
    cpu_ms_per_request=10.88,
    cores=2,
    date="2026-12-01",
)


def record(name: str, scale: float | None = None) -> MachineFitRecord:
    fit = check_fit(load_scenario(name).with_overrides(scale=scale), 2, BENCH)
    assert fit is not None
    return fit.record()


def with_fit(run_dir: Path, fit: MachineFitRecord | None) -> Path:
    meta = read_meta(run_dir)
    write_meta(run_dir, meta.model_copy(update={"machine_fit": fit}))
    return run_dir


def test_a_failed_run_far_beyond_the_machine_carries_the_note(tmp_path: Path) -> None:
    run_dir = with_fit(
        write_synthetic_run(tmp_path / "run", failed_spec()), record("influencer-spike")
    )
    built = build_report(run_dir)
    verdict = read_summary(built.summary_path).verdict
    assert verdict.verdict == "FAILED"
    assert verdict.exit_code == 1  # unchanged: the note explains, it does not excuse
    note = verdict.beyond_machine
    assert note is not None
    assert note.startswith(
        "The scenario's peak was 340x what this machine's bundled platform holds"
    )
    assert "(120,000 players against about 350 at its pace, 112 req/s on 2 cores; " in note
    assert note.endswith(
        "the failure says more about the machine than the platform (--scale 0.0029 fits)."
    )
    assert note in verdict.paragraph
    assert note in built.html.read_text().replace("&#39;", "'")
    cases = ET.parse(built.junit).getroot().iter("testcase")
    machine = [c for c in cases if c.get("classname") == "spikekit.machine"]
    assert len(machine) == 1
    skipped = machine[0].find("skipped")
    assert skipped is not None and skipped.get("message") == note


def test_a_tight_peak_may_be_the_machine(tmp_path: Path) -> None:
    note = beyond_machine(record("baseline", 0.06))  # 480 of 350
    assert note is not None
    assert note.startswith("The scenario's peak was 1.4x what")
    assert "the failure may say more about the machine" in note


def test_a_run_that_fitted_or_was_not_judged_gets_no_note(tmp_path: Path) -> None:
    assert beyond_machine(record("demo")) is None
    assert beyond_machine(None) is None
    run_dir = with_fit(write_synthetic_run(tmp_path / "fits", failed_spec()), record("demo"))
    summary = read_summary(build_report(run_dir).summary_path)
    assert summary.verdict.verdict == "FAILED"
    assert summary.verdict.beyond_machine is None
    assert "bundled platform holds" not in summary.verdict.paragraph


def test_a_run_that_did_not_fail_is_not_excused(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "degraded", degraded_spec())
    with_fit(run_dir, record("influencer-spike"))
    summary = read_summary(build_report(run_dir).summary_path)
    assert summary.verdict.verdict == "DEGRADED"
    assert summary.verdict.beyond_machine is None
    junit = ET.parse(run_dir / "junit.xml").getroot()
    assert not [c for c in junit.iter("testcase") if c.get("classname") == "spikekit.machine"]


def test_an_older_run_directory_without_the_record_still_reads(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "old", failed_spec())
    assert "machine_fit" not in json.loads((run_dir / "meta.json").read_text())
    assert read_meta(run_dir).machine_fit is None
    assert read_summary(build_report(run_dir).summary_path).verdict.beyond_machine is None
