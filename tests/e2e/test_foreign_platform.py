"""The bundled platform run through the foreign-platform path gives the built-in path's
SLO verdicts and bottleneck hints (issue 15, "Done when").

One login storm (every player logs in at once; the resilient auth sheds logins as
``overloaded`` from its first seconds) is run twice:

1. **foreign path**: the platform brought up detached (``platform up --detach``), and the
   run given only what a user of another platform has: ``--target`` the gateway URL,
   telemetry from a real Prometheus only (it scrapes every service's ``/metrics``; the
   run's ``telemetry:`` section queries it each second, :data:`QUERIES`), the audit's ledger through
   a read-only SQL query on the platform's PostgreSQL (``target.ledger``, its DSN in an
   environment variable), and a network fault through the platform's Toxiproxy API
   (``--toxiproxy``): no psutil, no stack state, no ledger export of ours;
2. **built-in path**: ``spikekit run`` of the same scenario against a platform it starts.

On the foreign path a short step run follows the storm (two held levels, the same
Prometheus): ``spikekit plan baseline --from-run`` takes its knee and every service's CPU
per request from the PromQL telemetry alone (issue 14, "works from a step run against a
user's own platform").

Two runs rather than one run judged twice, because the foreign path must be exercised end
to end (target, scrape, SQL ledger, fault); the file stays near two minutes (the built-in
run is ~60 s, the foreign one ~40 s plus ~12 s to bring the platform up). What is compared:

- **SLO verdicts**, per SLO: ``login p95`` and ``error rate`` fail (the storm), ``wallet
  p95`` passes; the last one reads the wallet's own metric, so it comes through the scrape.
- **Hints**: each hint one path names for ≥ 5 s (a bottleneck, not an edge of a threshold)
  is named by the other, same kind and service; ``auth overloaded`` (auth) and the gateway
  answering 5xx (the common-name hint: the gateway passes auth's 503s on) in both. CPU
  hints are left out of that cross-run comparison: the two shared cores serve whatever
  else runs on the machine at that moment (two runs of one unbounded storm here gave
  auth 150 % and 50 % of a core with the load average at 19), which no telemetry path
  changes. They are compared within the built-in run instead, where psutil's CPU and the
  scrape's ``process_cpu_seconds_total`` watched the same processes in the same seconds:
  per service they agree within the scrape's resolution, and hints from the scrape alone
  name the same saturated processes.
- **The audit** reconciles clean through the SQL ledger. Payment declines are off
  (``SPIKEKIT_PAYMENTS_DECLINE_RATE=0``, both runs): the bundled platform keeps payments'
  final statuses in Redis, which a SQL ledger on PostgreSQL cannot read, and an accepted
  deposit the provider declined would otherwise be "acknowledged, missing" — the failure
  an earlier attempt at this test hit (docs/ledger-export.md, "Payments accepted and then
  declined", says how a platform of the user's own gives them).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
import yaml

from spikekit.analysis.hints import HintKind, bottleneck_hints
from spikekit.analysis.rundir import load_run
from spikekit.analysis.sources import by_source, labels_of
from tests.conftest import require_toxiproxy
from tests.e2e.helpers import spikekit
from tests.prometheus_server import prometheus_server

PLAYERS = 300
ACCOUNTS = 2000
STORM_S = 6
STEP_PLAYERS = (15, 30)
SOLID_S = 5  # a hint held this long is a bottleneck, not the edge of a threshold
DSN_ENV = "SPIKEKIT_E2E_LEDGER_DSN"
CPU_KINDS = {HintKind.PROCESS_CPU.value, HintKind.POSTGRES_SATURATED.value}
CPU_KINDS.add(HintKind.REDIS_SATURATED.value)
#: the bundled wallet's ledger as a user would query it: ids as the players saw them
LEDGER_QUERY = """
SELECT CASE WHEN l.provider = 'payments' THEN l.tx_id
            ELSE l.provider || ':' || l.tx_id END AS tx_id,
       l.kind, l.player_id, abs(l.amount) AS amount, l.created_at AS applied_at,
       CASE WHEN t.original_tx_id IS NULL THEN NULL
            ELSE l.provider || ':' || t.original_tx_id END AS ref_tx_id
  FROM wallet.ledger_entries l
  LEFT JOIN wallet.transactions t ON t.provider = l.provider AND t.tx_id = l.tx_id
 WHERE l.kind <> 'seed' AND l.created_at >= $1 AND l.created_at <= $2
"""


def storm(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "login-storm",
        "description": "Every player arrives at once and logs in.",
        "target": target,
        "population": {"accounts": ACCOUNTS},
        "load": {
            "model": "closed",
            "start_players": PLAYERS,
            "stages": [{"duration": f"{STORM_S}s", "players": PLAYERS}],
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
            {"name": "wallet p95", "metric": "wallet_latency_p95", "threshold": 2500},
        ],
        # off the players' paths: a fault both paths take, through Toxiproxy either way
        "faults": [
            {
                "type": "network.latency",
                "at": "2s",
                "duration": "4s",
                "link": "reporting-postgres",
                "latency_ms": 20,
            }
        ],
    }


#: What the analysis reads of the platform, as PromQL: each query named after the series
#: the recorder derives from a scrape (a counter ``x_total`` as ``x_per_s``, a histogram
#: ``x_seconds`` as ``x_per_s`` and ``x_p95_ms``; docs/run-directory.md), so the same
#: aliases, SLOs and hints apply. ``irate`` over the last two scrapes (one second apart) is
#: the per-second rate the recorder computes from two scrapes.
QUERIES: dict[str, dict[str, str]] = {
    "up": {"query": "up", "service_label": "job"},
    "process_cpu_seconds_per_s": {
        "query": "irate(process_cpu_seconds_total[3s])",
        "service_label": "job",
    },
    "http_request_duration_per_s": {
        "query": "sum by (job, route, method, status) "
        "(irate(http_request_duration_seconds_count[3s]))",
        "service_label": "job",
    },
    "auth_logins_per_s": {
        "query": "sum by (outcome) (irate(auth_logins_total[3s]))",
        "service": "auth",
    },
    "gateway_backpressure_rejected_per_s": {
        "query": "sum(irate(gateway_backpressure_rejected_total[3s]))",
        "service": "gateway",
    },
    "wallet_transaction_duration_per_s": {
        "query": "sum by (operation) (irate(wallet_transaction_duration_seconds_count[3s]))",
        "service": "wallet",
    },
    "wallet_transaction_duration_p95_ms": {
        "query": "histogram_quantile(0.95, sum by (le, operation) "
        "(irate(wallet_transaction_duration_seconds_bucket[3s]))) * 1000",
        "service": "wallet",
    },
}


def steps(target: dict[str, Any]) -> dict[str, Any]:
    """A short step run (two held levels) for ``spikekit plan --from-run``."""
    return {
        "name": "two-steps",
        "description": "Two held levels of players, for their costs per request.",
        "target": target,
        "population": {"accounts": ACCOUNTS},
        "load": {
            "model": "closed",
            "stages": [
                {"duration": "3s", "players": STEP_PLAYERS[0]},
                {"duration": "13s", "players": STEP_PLAYERS[0]},
                {"duration": "3s", "players": STEP_PLAYERS[1]},
                {"duration": "13s", "players": STEP_PLAYERS[1]},
            ],
        },
        "think_time": {"min": "500ms", "max": "1s"},
        "slos": [
            {"name": "p95", "metric": "latency_p95", "threshold": 2000},
            {"name": "error rate", "metric": "error_rate", "threshold": 0.05},
        ],
    }


def scrape_jobs(status: dict[str, Any]) -> dict[str, list[str]]:
    """One Prometheus job per service of ``platform status --json``, its replicas' host:port."""
    jobs: dict[str, list[str]] = {}
    for service in status["services"]:
        jobs.setdefault(service["service"], []).append(urlsplit(service["url"]).netloc)
    return jobs


def _run(scenario: dict[str, Any], folder: Path, *options: str) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "storm.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    out = folder / "runs"
    result = spikekit("run", str(path), "--out", str(out), *options, timeout=240)
    runs = [p for p in out.iterdir() if p.is_dir()] if out.exists() else []
    assert len(runs) == 1, result.stdout + result.stderr
    summary: dict[str, Any] = json.loads((runs[0] / "summary.json").read_text())
    assert result.returncode == summary["verdict"]["exit_code"], result.stdout + result.stderr
    summary["run_dir"] = str(runs[0])
    summary["console"] = result.stdout + result.stderr
    return summary


@contextmanager
def detached(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The bundled platform up on its own, and down again; its ``platform status --json``."""
    state_dir = str(tmp_path / "platform")
    players = str(ACCOUNTS)
    up = spikekit("platform", "up", "--detach", "--state-dir", state_dir, "--players", players)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        status = spikekit("platform", "status", "--json", "--state-dir", state_dir)
        assert status.returncode == 0, status.stdout + status.stderr
        yield json.loads(status.stdout)
    finally:
        down = spikekit("platform", "down", "--state-dir", state_dir)
        assert down.returncode == 0, down.stdout + down.stderr


def _foreign_runs(
    status: dict[str, Any], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    """Telemetry from a real Prometheus only: it scrapes the services, the runs query it.
    The storm, then the step run (it needs no ledger: it is read for its costs)."""
    [gateway] = [s["url"] for s in status["services"] if s["service"] == "gateway"]
    [dsn] = [b["address"] for b in status["backing"] if b["kind"] == "postgres"]
    monkeypatch.setenv(DSN_ENV, dsn)
    ledger = {"query": LEDGER_QUERY, "dsn_env": DSN_ENV}
    jobs = scrape_jobs(status)
    with prometheus_server(folder / "prometheus", jobs) as prometheus:
        prometheus.wait_for(f"count(up == 1) >= {sum(map(len, jobs.values()))}", timeout=30)
        telemetry = {"prometheus": {"url": prometheus.url, "queries": QUERIES}}
        scenario = storm({"url": gateway, "ledger": ledger}) | {"telemetry": telemetry}
        storm_run = _run(scenario, folder / "storm", "--toxiproxy", status["toxiproxy_api"])
        stepped = steps({"url": gateway}) | {"telemetry": telemetry}
        return storm_run, _run(stepped, folder / "steps")


def _check_the_plan_from_the_step_run(run_dir: Path) -> None:
    """``spikekit plan --from-run``: the knee and the CPU per request of every service,
    from the run's PromQL telemetry alone."""
    result = spikekit("plan", "baseline", "--from-run", str(run_dir), "--json", timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads(result.stdout)
    measured = plan["measured"]
    assert measured["source"].startswith(f"step run {run_dir.name}"), measured["source"]
    assert measured["knee_players"] in STEP_PLAYERS, measured
    parts = {p["part"]: p for p in plan["parts"]}
    # every service of the platform serves its process CPU; PostgreSQL and Redis do not
    assert {"gateway", "auth", "wallet", "router"} <= set(parts), sorted(parts)
    assert "postgres" not in parts and "redis" not in parts
    for part in parts.values():
        assert part["cores"]["point"] > 0, part
    assert plan["peak"]["players"] == 8000  # baseline's, at the run's own pace


def _verdicts(summary: dict[str, Any]) -> dict[str, bool]:
    return {slo["name"]: slo["passed"] for slo in summary["slos"]}


def _named(summary: dict[str, Any], solid: bool) -> set[tuple[str, str]]:
    """(kind, service) of the hints, CPU kinds aside; only those held ≥ SOLID_S if ``solid``."""
    return {
        (h["kind"], h["service"])
        for h in summary["hints"]
        if h["kind"] not in CPU_KINDS and (h["seconds"] >= SOLID_S or not solid)
    }


def _check_cpu_within_the_built_in_run(run_dir: Path) -> None:
    """psutil's CPU and the scrape's, per service process, in the same seconds."""
    run = load_run(run_dir)
    metrics, n = run.platform_metrics, run.duration_s
    psutil_cpu = {
        (service, labels_of(text)["process"]): cpu
        for (service, text), cpu in by_source(metrics, "process_cpu_percent", n).items()
    }
    compared = 0
    for (service, text), scraped in by_source(metrics, "scraped_cpu_percent", n).items():
        measured = psutil_cpu.get((service, labels_of(text).get("instance", service)))
        assert measured is not None, (service, text, sorted(psutil_cpu))
        both = ~np.isnan(scraped) & ~np.isnan(measured)
        assert both.sum() >= STORM_S, service
        ours, theirs = float(scraped[both].mean()), float(measured[both].mean())
        assert abs(ours - theirs) <= max(3.0, 0.1 * theirs), (service, ours, theirs)
        compared += 1
    assert compared >= 10  # every service of the platform serves its process CPU
    # hints from the scrape alone (psutil's rows dropped) name the same saturated services
    own = metrics[~metrics["metric"].isin(["process_cpu_percent", "process_tree_cpu_percent"])]
    scraped_only = bottleneck_hints(dataclasses.replace(run, platform_metrics=own))
    services = {"postgres", "redis", "haproxy"}  # no /metrics of their own
    by_psutil = {
        (h.kind, h.service)
        for h in bottleneck_hints(run)
        if h.kind is HintKind.PROCESS_CPU and h.seconds >= SOLID_S and h.service not in services
    }
    by_scrape = {(h.kind, h.service) for h in scraped_only if h.kind is HintKind.PROCESS_CPU}
    assert by_psutil <= by_scrape, (by_psutil, by_scrape)


def test_the_foreign_path_gives_the_built_in_verdicts_and_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_toxiproxy()
    monkeypatch.setenv("SPIKEKIT_PAYMENTS_DECLINE_RATE", "0")  # inherited by both stacks
    with detached(tmp_path) as status:
        foreign, stepped = _foreign_runs(status, tmp_path / "foreign", monkeypatch)
    built_in = _run(storm({"profile": "resilient"}), tmp_path / "built-in")  # its own stack

    # the audit, through the SQL ledger: every acknowledged transaction applied once
    checks = {c["name"]: c for c in foreign["audit"]["checks"]}
    for name in ("acked_applied", "applied_once", "acked_amounts_match", "nothing_unrequested"):
        assert checks[name]["status"] == "passed", checks[name]
    ledger = pd.read_parquet(Path(foreign["run_dir"]) / "ledger_export.parquet")
    acked = (Path(foreign["run_dir"]) / "acked_transactions.jsonl").read_text().splitlines()
    assert len(acked) > 0 and len(ledger) >= len(acked), (len(acked), len(ledger))
    assert "ledger entries from a SQL query" in foreign["console"]

    # the same verdict per SLO (the storm fails login p95 and errors, not the wallet)
    assert (
        _verdicts(foreign)
        == _verdicts(built_in)
        == {
            "login p95": False,
            "error rate": False,
            "wallet p95": True,
        }
    )

    # the same bottlenecks
    overloaded = (HintKind.AUTH_OVERLOADED.value, "auth")
    errors = (HintKind.SERVER_ERRORS.value, "gateway")
    for summary in (foreign, built_in):
        assert {overloaded, errors} <= _named(summary, solid=True), summary["hints"]
    assert _named(foreign, solid=True) <= _named(built_in, solid=False), (
        foreign["hints"],
        built_in["hints"],
    )
    assert _named(built_in, solid=True) <= _named(foreign, solid=False), (
        foreign["hints"],
        built_in["hints"],
    )
    _check_cpu_within_the_built_in_run(Path(built_in["run_dir"]))
    _check_the_plan_from_the_step_run(Path(stepped["run_dir"]))
