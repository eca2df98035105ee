"""One measurement of the platform bench: ``spikekit run`` on a generated step scenario.

The scenario (:func:`scenario_document`) is written into the bench's work folder and run
the way a user runs one, ``python -m spikekit run SCENARIO --out WORK``, in a child
process: the bundled platform (resilient profile, Toxiproxy on every link, started by the
stack supervisor as for ``spikekit platform up``), the load engine (Locust master and one
worker per core) and the telemetry recorder are all its descendants, and a
:class:`~bench.platform_cpu.TreeSampler` snapshots their CPU once a second.

With a source tree (``--baseline-tree``) the child runs with ``PYTHONPATH=TREE`` and its
working directory outside this repository, so that tree's ``spikekit`` is imported (checked
before the run). Afterwards the run directory is read: ``timeseries.parquet`` and
``players.parquet`` (per second, the load recorder's), ``meta.json`` (the load's t = 0)
and ``platform/stack.json`` (Toxiproxy was on, with its links).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from bench.harness import REPO, REPO_TOOLS
from bench.platform_cpu import Cost, Snapshot, TreeSampler, costs, cpu_between, nearest
from bench.platform_steps import (
    BreakPoint,
    Criterion,
    Knee,
    Schedule,
    Second,
    StepFigures,
    break_point,
    judge,
    knee,
)
from spikekit.scenarios import Scenario, load_scenario

#: Past this much time over the planned load, the run is stopped (SIGTERM, then SIGKILL).
OVERHEAD_S = 300.0
STOP_GRACE_S = 90.0
MIN_COSTED_S = 5  # a window with fewer seconds of data is not costed


@dataclass(frozen=True)
class Tree:
    """The source tree a measurement imports ``spikekit`` from."""

    label: str  # "this tree" or "baseline tree"
    path: Path
    description: str

    @property
    def slug(self) -> str:
        return self.label.replace(" ", "-")


@dataclass(frozen=True)
class StepCost:
    costs: list[Cost]
    window_s: float
    machine_cores: float  # the whole machine's busy cores over the window
    run_cores: float  # the run's processes

    @property
    def ms_per_request(self) -> float:
        return sum(c.ms_per_request for c in self.costs)

    @property
    def hottest(self) -> Cost | None:
        return max(self.costs, key=lambda c: c.hottest_core, default=None)

    @property
    def others(self) -> float:
        """Cores kept busy by processes not of the run (other engineers' tests, the bench)."""
        return max(self.machine_cores - self.run_cores, 0.0)

    def cores(self, role: str) -> float:
        return sum(c.cores for c in self.costs if c.role == role)


@dataclass
class Measurement:
    tree: Tree
    run_dir: Path | None = None
    exit_code: int | None = None
    status: str = ""
    abort_reason: str | None = None
    seconds: float = 0.0
    steps: list[StepFigures] = field(default_factory=list)
    step_costs: dict[int, StepCost] = field(default_factory=dict)
    sampler_cpu_s: float = 0.0
    busy_before: float = float("nan")  # cores the machine's other work kept busy at the start
    idle: StepCost | None = None  # the first seconds, without players
    gave_way: BreakPoint | None = None  # on the ramp above the knee (trailing 10 s)

    @property
    def knee(self) -> Knee:
        return knee(self.steps)


def scenario_document(
    plan: Schedule, criterion: Criterion, accounts: int, think_time: dict[str, object] | None = None
) -> dict[str, object]:
    """The step scenario: ``baseline``'s persona mix, think time (unless ``think_time`` is
    given) and impatience (the built-in scenarios' defaults), the bench's criterion as
    SLOs, and stop conditions that end the run once the platform is far past its knee."""
    reference = load_scenario("baseline")
    return {
        "name": "bench-platform",
        "description": "python -m bench --only platform: a step load to the platform's knee.",
        "target": {"profile": "resilient"},
        "population": {"accounts": accounts},
        "load": {"model": "closed", "stages": plan.stages()},
        "personas": reference.personas.model_dump(),
        "think_time": think_time or reference.think_time.model_dump(),
        "impatience": reference.impatience.model_dump(),
        "slos": [
            {
                "name": "rounds p95",
                "metric": "latency_p95",
                "endpoint": criterion.endpoint,
                "threshold": criterion.p95_ms,
            },
            {"name": "error rate", "metric": "error_rate", "threshold": criterion.error_rate},
        ],
        "stop_conditions": [
            {"metric": "error_rate", "threshold": 0.25, "sustained": 20},
            {
                "metric": "latency_p95",
                "endpoint": criterion.endpoint,
                "threshold": 3 * criterion.p95_ms,
                "sustained": 30,
            },
        ],
    }


def write_scenario(document: dict[str, object], path: Path) -> Path:
    Scenario.model_validate(document)  # a bad document fails here, not in the child
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def child_env(tree: Tree) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree.path)
    env["PATH"] = f"{REPO_TOOLS}{os.pathsep}{env.get('PATH', '')}"  # toxiproxy-server
    env["PYTHONUNBUFFERED"] = "1"
    return env


def check_tree(tree: Tree, cwd: Path) -> None:
    """Refuse to measure when the child would not import ``tree``'s spikekit."""
    found = subprocess.run(
        [sys.executable, "-c", "import spikekit; print(spikekit.__file__)"],
        env=child_env(tree),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    where = Path(found.stdout.strip() or "?").resolve()
    if found.returncode != 0 or not where.is_relative_to(tree.path.resolve()):
        raise RuntimeError(
            f"{tree.label} {tree.path}: the run would import spikekit from {where} "
            f"({found.stderr.strip()[-300:]})"
        )


def describe_this_tree() -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read only: no index refresh
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True, env=env,
        ).stdout.strip()  # fmt: skip
        changed = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, env=env,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return str(REPO)
    return f"commit {head}" + (" + uncommitted changes" if changed else "")


def measure(
    tree: Tree,
    plan: Schedule,
    criterion: Criterion,
    accounts: int,
    work_dir: Path,
    think_time: dict[str, object] | None = None,
    label: str | None = None,
) -> Measurement:
    """One ``spikekit run`` of the step scenario in ``work_dir/<label or tree>``."""
    folder = work_dir / (label or tree.slug)
    folder.mkdir(parents=True, exist_ok=True)
    check_tree(tree, folder)
    scenario = write_scenario(
        scenario_document(plan, criterion, accounts, think_time), folder / "bench-platform.yaml"
    )
    runs = folder / "runs"
    argv = [sys.executable, "-m", "spikekit", "run", str(scenario), "--out", str(runs)]
    result = Measurement(tree)
    began = time.monotonic()
    log = folder / "spikekit-run.log"
    child = subprocess.Popen(
        argv,
        cwd=folder,
        env=child_env(tree),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sampler = TreeSampler(child.pid).start()
    echo = threading.Thread(target=_echo, args=(child, log, tree.label), daemon=True)
    echo.start()
    try:
        result.exit_code = _wait(child, plan.duration_s + OVERHEAD_S)
    finally:
        _stop(child)
        sampler.stop()
        echo.join(10.0)
    result.seconds = time.monotonic() - began
    result.sampler_cpu_s = sampler.own_cpu_s
    run_dirs = sorted(runs.glob("*-bench-platform")) if runs.exists() else []
    if not run_dirs:
        raise RuntimeError(f"{tree.label}: spikekit run made no run directory; see {log}")
    result.run_dir = run_dirs[-1]
    _read(result, plan, criterion, sampler)
    return result


def _echo(child: subprocess.Popen[str], log: Path, label: str) -> None:
    assert child.stdout is not None
    with log.open("w", encoding="utf-8") as out:
        for line in child.stdout:
            out.write(line)
            out.flush()
            print(f"  [{label}] {line.rstrip()}", flush=True)


def _stop(child: subprocess.Popen[str]) -> None:
    """An orderly stop (SIGTERM: faults reverted, files written, platform down), then
    SIGKILL after the grace or on a second interrupt (its children die with it)."""
    if child.poll() is not None:
        return
    try:
        child.terminate()
        child.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    except BaseException:  # a second Ctrl-C: stop now
        child.kill()
        child.wait()
        raise


def _wait(child: subprocess.Popen[str], timeout_s: float) -> int:
    try:
        return child.wait(timeout_s)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGTERM)  # an orderly stop: files written, platform down
        try:
            return child.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()


def _read(result: Measurement, plan: Schedule, criterion: Criterion, sampler: TreeSampler) -> None:
    run_dir = result.run_dir
    assert run_dir is not None
    meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
    result.status = str(meta.get("status", ""))
    result.abort_reason = meta.get("abort_reason")
    if meta.get("profile") != "resilient":
        raise RuntimeError(f"{run_dir}: profile {meta.get('profile')!r}, expected resilient")
    _check_toxiproxy(run_dir)
    if not (run_dir / "timeseries.parquet").exists():
        raise RuntimeError(f"{run_dir}: no timeseries.parquet (exit {result.exit_code})")
    seconds = _seconds(run_dir)
    players = _players(run_dir)
    result.steps = judge(plan, seconds, players, criterion)
    above = result.knee.above
    if above is not None:
        result.gave_way = break_point(seconds, players, criterion, above.step.ramp_t)
    started_at = float(meta["started_at"])
    roles = sampler.roles()
    for figures in result.steps:
        cost = step_cost(figures, sampler.snapshots, roles, started_at)
        if cost is not None:
            result.step_costs[figures.step.index] = cost
    if plan.idle_window is not None:
        start, end = plan.idle_window
        idle = [s for s in seconds if start <= s.t < end and s.endpoint == "*"]
        requests = sum(s.requests for s in idle)
        result.idle = window_cost(start, end, requests, sampler.snapshots, roles, started_at)


def step_cost(
    figures: StepFigures,
    snapshots: list[Snapshot],
    roles: dict[tuple[int, float], str],
    started_at: float,
) -> StepCost | None:
    """The CPU of the step's window (a window cut short by the end of the run: the
    seconds it has)."""
    start, end = figures.step.window
    if figures.seconds < MIN_COSTED_S:
        return None
    end = min(end, start + figures.seconds)
    return window_cost(start, end, figures.requests, snapshots, roles, started_at)


def window_cost(
    start: int,
    end: int,
    requests: int,
    snapshots: list[Snapshot],
    roles: dict[tuple[int, float], str],
    started_at: float,
) -> StepCost | None:
    """The CPU of the seconds ``[start, end)`` of the run's clock, from the snapshots
    nearest its two ends; None without a snapshot within 1.5 s of each."""
    first = nearest(snapshots, started_at + start)
    last = nearest(snapshots, started_at + end)
    if first is None or last is None or last.wall <= first.wall:
        return None
    if abs(first.wall - started_at - start) > 1.5 or abs(last.wall - started_at - end) > 1.5:
        return None
    measured = last.wall - first.wall
    used = cpu_between(first, last)
    window = float(end - start)
    return StepCost(
        costs=costs(used, roles, requests, window, measured),
        window_s=window,
        machine_cores=(last.machine_busy_s - first.machine_busy_s) / measured,
        run_cores=sum(used.values()) / measured,
    )


def _check_toxiproxy(run_dir: Path) -> None:
    stack = json.loads((run_dir / "platform" / "stack.json").read_text(encoding="utf-8"))
    links = stack.get("links") or []
    if not stack.get("toxiproxy") or not links:
        raise RuntimeError(
            f"{run_dir}: Toxiproxy was not on the platform's links (is "
            f"{REPO_TOOLS / 'toxiproxy-server'} built? `make toxiproxy`)"
        )


def _seconds(run_dir: Path) -> list[Second]:
    frame = pd.read_parquet(run_dir / "timeseries.parquet")
    return [
        Second(int(t), str(e), int(r), int(f), float(p95), float(p99))
        for t, e, r, f, p95, p99 in zip(
            frame["t"],
            frame["endpoint"],
            frame["requests"],
            frame["failures"],
            frame["p95_ms"],
            frame["p99_ms"],
            strict=True,
        )
    ]


def _players(run_dir: Path) -> dict[int, int]:
    frame = pd.read_parquet(run_dir / "players.parquet")
    return {int(t): int(p) for t, p in zip(frame["t"], frame["actual_players"], strict=True)}
