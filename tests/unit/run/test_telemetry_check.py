"""Before a run, every telemetry host goes through the target guard (no network here:
the refused hosts are IP addresses off this machine, never contacted)."""

from __future__ import annotations

import pytest

from spikekit.errors import UnsafeTargetError
from spikekit.guard import TargetGuard
from spikekit.run.options import RunOptions
from spikekit.run.telemetry_check import check_telemetry
from spikekit.scenarios import parse_scenario

HEAD = """\
name: mine
target: {url: "http://127.0.0.1:9000"}
load: {model: closed, stages: [{duration: 1m, players: 10}]}
"""


def _refused(text: str, scrape: tuple[str, ...] = ()) -> str:
    scenario = parse_scenario(HEAD + text)
    options = RunOptions(scenario="mine", scrape=scrape)
    with pytest.raises(UnsafeTargetError) as caught:
        check_telemetry(scenario, options, TargetGuard(), print)
    return str(caught.value)


def test_a_prometheus_off_this_machine_is_refused_before_it_is_asked() -> None:
    said = _refused("telemetry: {prometheus: {url: 'http://10.1.2.3:9090', queries: {a: up}}}")
    assert "telemetry.prometheus" in said and "--allow-target 10.1.2.3" in said


def test_scrape_urls_of_the_scenario_and_of_the_command_line_are_guarded() -> None:
    said = _refused("telemetry: {scrape: [{service: api, url: 'http://10.9.9.9:8080'}]}")
    assert "telemetry scrape of api" in said and "10.9.9.9" in said
    said = _refused("", scrape=("db=http://192.0.2.7:9187",))
    assert "telemetry scrape of db" in said and "192.0.2.7" in said


def test_allowed_hosts_and_loopback_pass_without_a_prometheus_section() -> None:
    scenario = parse_scenario(
        HEAD + "telemetry: {scrape: [{service: api, url: 'http://10.9.9.9:8080'}]}"
    )
    options = RunOptions(scenario="mine", scrape=("db=http://127.0.0.2:9187",))
    check_telemetry(scenario, options, TargetGuard(["10.9.9.9"]), print)  # no error
