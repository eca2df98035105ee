"""The start of a run checks the peak against this machine and keeps it in ``meta.json``."""

from __future__ import annotations

from pathlib import Path

from spikekit.run import rundir
from spikekit.run.capacity_check import Fit
from spikekit.run.options import RunOptions
from spikekit.run.orchestrator import SpikeRun
from spikekit.rundir.meta import read_meta


def test_a_run_knows_at_its_start_that_the_full_spike_is_beyond_this_machine() -> None:
    spike = SpikeRun(RunOptions(scenario="influencer-spike"))  # starts nothing yet
    assert spike.machine_fit is not None
    assert spike.machine_fit.fit is Fit.FAR_BEYOND
    assert spike.machine_fit.peak_players == 120_000


def test_a_run_against_a_platform_of_your_own_is_not_checked() -> None:
    spike = SpikeRun(RunOptions(scenario="smoke", target_url="http://127.0.0.1:8080"))
    assert spike.machine_fit is None


def test_the_check_is_kept_in_meta_json_for_the_report(tmp_path: Path) -> None:
    spike = SpikeRun(RunOptions(scenario="demo", out=tmp_path))
    assert spike.machine_fit is not None
    run_dir = rundir.create(tmp_path, spike.scenario)
    record = spike.machine_fit.record()
    rundir.write_meta(run_dir, spike.scenario, "", started_at=1.0, machine_fit=record)
    kept = read_meta(run_dir).machine_fit
    assert kept == record
    assert kept is not None and kept.fit == "fits" and kept.peak_players == 210
