"""Every fault of the schedule resolved against the target before anything starts
(spikekit.chaos.resolve): what each touches, or a refusal (exit 2) naming what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from spikekit.chaos.resolve import available_for, refuse_unresolved, resolve_faults
from spikekit.cli.main import app
from spikekit.errors import ConfigError
from spikekit.scenarios import Scenario, parse_scenario

runner = CliRunner()

FAULTS = """
faults:
  - {type: network.latency, at: 1s, duration: 2s, link: wallet-postgres, latency_ms: 100}
  - {type: provider.latency, at: 2s, duration: 2s, provider: starlight, latency_ms: 300}
  - {type: database.lock, at: 3s, duration: 2s}
  - {type: docker.pause, at: 4s, duration: 2s, container: web-1}
"""


def scenario(target: str, faults: str = FAULTS) -> Scenario:
    text = f"""
name: resolve-test
description: faults resolved before the run
target: {target}
load:
  model: closed
  stages:
    - {{duration: 10s, players: 5}}
{faults}
"""
    return parse_scenario(text)


def no_toxiproxy() -> Path | None:
    return None


def test_external_target_without_toxiproxy_refuses_the_network_fault_naming_the_flag() -> None:
    s = scenario("{url: 'http://127.0.0.1:9'}")
    have = available_for(s, toxiproxy_url=None, env={}, find_toxiproxy=no_toxiproxy)
    by_id = {r.fault_id: r for r in resolve_faults(s, have)}
    network = by_id["0-network.latency"]
    assert not network.ok and network.needs is not None
    assert "Toxiproxy API" in network.needs and "--toxiproxy URL" in network.needs
    assert "provider control API" in (by_id["1-provider.latency"].needs or "")
    assert "database URL" in (by_id["2-database.lock"].needs or "")
    assert "container engine" in (by_id["3-docker.pause"].needs or "")
    assert "DOCKER_HOST" in (by_id["3-docker.pause"].needs or "")
    with pytest.raises(ConfigError) as refused:
        refuse_unresolved(list(by_id.values()))
    lines = str(refused.value).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("fault 0-network.latency (network.latency): ")


def test_external_target_with_toxiproxy_and_an_engine_lists_what_they_touch() -> None:
    s = scenario("{url: 'http://127.0.0.1:9'}")
    have = available_for(
        s,
        toxiproxy_url="http://127.0.0.1:8474",
        env={"DOCKER_HOST": "tcp://127.0.0.1:2375"},
        find_toxiproxy=no_toxiproxy,
    )
    by_id = {r.fault_id: r for r in resolve_faults(s, have)}
    assert by_id["0-network.latency"].touches == (
        "proxy wallet-postgres on Toxiproxy at http://127.0.0.1:8474"
    )
    assert (
        by_id["3-docker.pause"].touches == "container:web-1 on the engine at tcp://127.0.0.1:2375"
    )
    assert not by_id["1-provider.latency"].ok  # still none of those with --target


def test_bundled_platform_offers_everything_but_network_without_a_toxiproxy() -> None:
    s = scenario("{profile: resilient}")
    have = available_for(s, toxiproxy_url=None, env={}, find_toxiproxy=no_toxiproxy)
    by_id = {r.fault_id: r for r in resolve_faults(s, have)}
    assert "make install" in (by_id["0-network.latency"].needs or "")
    assert by_id["1-provider.latency"].touches == "the control API of starlight"
    assert "bundled PostgreSQL" in (by_id["2-database.lock"].touches or "")
    with_proxy = available_for(
        s, toxiproxy_url=None, env={}, find_toxiproxy=lambda: Path("/bin/toxiproxy-server")
    )
    network = resolve_faults(s, with_proxy)[0]
    assert network.touches == "proxy wallet-postgres on the bundled platform's Toxiproxy"


def test_provider_fault_against_a_dead_url_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    """The issue's observation: refused at once, exit 2, no run directory, no load."""
    path = tmp_path / "provider.yaml"
    path.write_text(
        """
name: provider-out
description: a provider fault against a platform that has no simulator
target: {url: 'http://127.0.0.1:9'}
load:
  model: closed
  stages:
    - {duration: 20s, players: 2}
faults:
  - {type: provider.latency, at: 4s, duration: 2s, provider: starlight, latency_ms: 300}
"""
    )
    out = tmp_path / "runs"
    result = runner.invoke(app, ["run", str(path), "--out", str(out)], env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "fault 0-provider.latency (provider.latency): this target cannot take it" in text
    assert "provider control API" in text
    assert not out.exists() or not any(out.iterdir())  # no run directory was created


def test_dry_run_lists_what_each_fault_touches() -> None:
    result = runner.invoke(app, ["run", "smoke", "--dry-run"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "faults (what each will touch)" in text
    assert "the control API of the studio with the most rounds" in text


def test_dry_run_refuses_what_the_target_cannot_take(tmp_path: Path) -> None:
    args = ["run", "smoke", "--dry-run", "--target", "http://127.0.0.1:9"]
    result = runner.invoke(app, [*args, "--allow-target", "127.0.0.1"], env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "CANNOT: needs a provider control API" in text
    assert "this target cannot take it" in text
