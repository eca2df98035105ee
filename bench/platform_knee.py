"""Benchmark 6 — the bundled platform's knee on this machine, and what a request costs.

``spikekit run`` plays a generated step scenario against the bundled platform (resilient
profile, Toxiproxy on every link; :mod:`bench.platform_run`): players rise in steps, each
ramp at a bounded arrival rate (every new player logs in; argon2id costs about 29 ms, so
two cores verify at most ~69 passwords a second: the ramps stay far below that), each
step held. The knee is the highest step held within the criterion
(:class:`bench.platform_steps.Criterion`). Over each step's window the CPU time of every
process of the run — services, PostgreSQL postmaster and backends, Redis, Toxiproxy, the
Locust master and workers, the orchestrator with its telemetry recorder — is divided by
the requests completed in it (:mod:`bench.platform_cpu`).

The ratio: against a ``--baseline-tree`` measured in the same invocation (the same
scenario, that tree's spikekit), and against the *before* figure kept in RESULTS.md (the
first full run records it; it stays until removed from the section by hand).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bench.harness import REPO, RESULTS, Config, Section
from bench.platform_cpu import wait_for_quiet
from bench.platform_notes import Setup, read_reference, reference_of
from bench.platform_run import Measurement, Tree, describe_this_tree, measure
from bench.platform_section import section_for, write_capacity_figure
from bench.platform_steps import Criterion, Schedule, schedule

#: Steps of about 1.6x. Every ramp is 10 arrivals (logins) a second, 0.29 s of argon2id a
#: second: reaching the top step takes 6 minutes, so that a run whose every step is held
#: still ends within 15 minutes.
FULL_STEPS = (200, 350, 600, 1000, 1600, 2500, 3600)
QUICK_STEPS = (150, 300, 600, 1000)
ARRIVALS_PER_S = 10.0
FULL_HOLD_S, FULL_SETTLE_S = 63.0, 3.0  # a 60 s window per step
QUICK_HOLD_S, QUICK_SETTLE_S = 15.0, 3.0
FULL_IDLE_S, QUICK_IDLE_S = 20.0, 10.0  # first, no players: what the stack burns idle
ACCOUNTS = 10_000
CRITERION = Criterion()
QUIET_CORES = 0.5  # before a run, wait until other work keeps fewer cores than this busy
QUIET_WAIT_S, QUICK_QUIET_WAIT_S = 30.0, 15.0


def plan_for(config: Config) -> Schedule:
    if config.quick:
        return schedule(QUICK_STEPS, ARRIVALS_PER_S, QUICK_HOLD_S, QUICK_SETTLE_S, QUICK_IDLE_S)
    return schedule(FULL_STEPS, ARRIVALS_PER_S, FULL_HOLD_S, FULL_SETTLE_S, FULL_IDLE_S)


def run(config: Config, baseline_tree: Path | None = None, results: Path = RESULTS) -> Section:
    plan = plan_for(config)
    trees = []
    if baseline_tree is not None:
        path = baseline_tree.resolve()
        if not (path / "spikekit" / "__init__.py").is_file():
            raise RuntimeError(f"--baseline-tree {path}: no spikekit/ package in it")
        trees.append(Tree("baseline tree", path, str(path)))
    trees.append(Tree("this tree", REPO, describe_this_tree()))
    measured: dict[str, Measurement] = {}
    for tree in trees:  # back to back, the baseline first
        print(f"  platform: {tree.label} ({tree.description}), steps {plan_text(plan)}")
        wait_s = config.seconds(QUIET_WAIT_S, QUICK_QUIET_WAIT_S)
        busy = wait_for_quiet(QUIET_CORES, wait_s)
        print(f"  platform: the machine's other work keeps {busy:.2f} cores busy", flush=True)
        measurement = measure(tree, plan, CRITERION, ACCOUNTS, config.work_dir)
        measurement.busy_before = busy
        measured[tree.label] = measurement
    reference = read_reference(results)
    recorded = False
    if reference is None and not config.quick:
        first = measured[trees[0].label]
        reference = reference_of(first, datetime.now(UTC).strftime("%Y-%m-%d"))
        recorded = True
    setup = Setup(CRITERION, ACCOUNTS, QUIET_CORES, QUIET_WAIT_S, QUICK_QUIET_WAIT_S)
    if not config.quick:  # the package's figure (docs/capacity.md); quick holds are too short
        write_capacity_figure(measured["this tree"])
    return section_for(measured, plan, setup, reference, recorded)


def plan_text(plan: Schedule) -> str:
    return ", ".join(f"{s.players:,}" for s in plan.steps)
