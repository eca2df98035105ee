"""The report names the bottleneck: two short real runs against the bundled platform.

A login storm (every player arrives at once) makes the resilient auth shed logins as
``overloaded``; the same storm against an auth whose password checks are unbounded (32
hash threads, ``SPIKEKIT_AUTH_BOUNDED_VERIFY=false``) sheds nothing and saturates the
one auth process instead. Argon2 is the platform's only CPU-heavy path, which is why
both runs aim at auth: the first must be named as shedding, the second as a process at
≥ 90 % of a core, in summary.json and in report.html.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.e2e.helpers import spikekit
from tests.e2e.test_run import only_run_dir

STORM_S = 10


def storm(path: Path, players: int) -> Path:
    scenario = {
        "name": "login-storm",
        "description": "Every player arrives at once and logs in.",
        "target": {"profile": "resilient"},
        "population": {"accounts": 2000},
        "load": {
            "model": "closed",
            "start_players": players,
            "stages": [{"duration": f"{STORM_S}s", "players": players}],
        },
        "think_time": {"min": "200ms", "max": "500ms"},
        "slos": [
            {
                "name": "login p95",
                "metric": "latency_p95",
                "endpoint": "POST /api/login",
                "threshold": 800,
            },
            {"name": "error rate", "metric": "error_rate", "threshold": 0.05},
        ],
    }
    path.write_text(yaml.safe_dump(scenario))
    return path


def run_storm(tmp_path: Path, players: int) -> tuple[dict[str, Any], str, Path]:
    out = tmp_path / "runs"
    scenario = storm(tmp_path / "storm.yaml", players)
    result = spikekit("run", str(scenario), "--out", str(out), timeout=400)
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert result.returncode == summary["verdict"]["exit_code"], result.stdout + result.stderr
    html = (run_dir / "report.html").read_text()
    return summary, html[html.index('<ul id="hints">') :].split("</ul>", 1)[0], run_dir


def test_a_login_storm_is_named_as_auth_shedding_from_its_start(tmp_path: Path) -> None:
    summary, hints_html, _ = run_storm(tmp_path, players=300)
    assert summary["verdict"]["verdict"] == "FAILED"
    shedding = [h for h in summary["hints"] if h["kind"] == "auth overloaded"]
    assert shedding, summary["hints"]
    [hint] = shedding
    assert hint["service"] == "auth" and hint["phase"] == "steady"
    assert hint["first_t"] <= 5, hint  # the storm starts with the run
    assert hint["seconds"] >= 3 and hint["total"] > 100
    assert hint["share"] > 0.5  # most logins were refused
    assert "auth overloaded" in hints_html and f"from t={hint['first_t']} s" in hints_html


def test_an_unbounded_auth_saturates_its_process_and_the_hint_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKEKIT_AUTH_BOUNDED_VERIFY", "false")  # inherited by the stack
    summary, hints_html, run_dir = run_storm(tmp_path, players=300)
    cpu = [h for h in summary["hints"] if h["kind"] == "process CPU saturated"]
    assert [h["service"] for h in cpu] == ["auth"], summary["hints"]
    [hint] = cpu
    assert hint["peak"] >= 90 and hint["seconds"] >= 3
    assert not [h for h in summary["hints"] if h["kind"] == "auth overloaded"]
    assert "process CPU saturated" in hints_html and "auth" in hints_html
    # PostgreSQL's CPU is its postmaster and its backends together
    metrics = pd.read_parquet(run_dir / "platform_metrics.parquet")
    postgres = metrics[metrics["service"] == "postgres"]
    tree = postgres[postgres["metric"] == "process_tree_cpu_percent"].set_index("t")["value"]
    alone = postgres[postgres["metric"] == "process_cpu_percent"].set_index("t")["value"]
    assert len(tree) >= STORM_S and (tree >= alone.reindex(tree.index) - 1e-9).all()
    size = postgres[postgres["metric"] == "process_tree_processes"]["value"]
    assert size.max() > 1, "the backends are in the tree"
