"""Does the scenario fit this machine's bundled platform? Pure: no I/O, no clock.

The dry run and the start of a run compare the scenario's peak with what the bundled
platform holds here, so that a run this machine cannot drive is said to be one before it
starts, and its FAILED is not mistaken for the platform's (docs/capacity.md).

**The scenario's peak.** ``peak_players`` after ``--scale``, each making
``1 / (think + answer)`` requests a second: one action of a persona is one request (and
its retries, :mod:`spikekit.load.personas`), then the player thinks for the mean of the
scenario's think time; paced (``think_time.pacing``) the mean interval is between the
starts of two actions. The answer time is the bench's: the measured requests per player
at the bench's think time, ``1 / rps_per_player - think``. The persona mix is taken as
the bench's (``baseline``'s): it changes what a request costs, not how many there are.

**What the platform holds here.** The bench's requests per second at the knee
(:mod:`spikekit.reference_platform.capacity`), multiplied by ``cores here / cores of the
bench`` when they differ (an estimate: the platform is CPU-bound, all its processes on
one machine). Without a bench figure, an estimate from the cores and the measured cost
of a request: ``cores x 1000 / ESTIMATE_CPU_MS x KNEE_BUSY`` (the knee came with 61 % of
the CPU busy: latency climbs before the cores are full). Players held is that divided by
the scenario's requests per player.

**The verdict.** ``ratio = peak req/s / held req/s``: *fits* up to 1, *tight* up to
:data:`TIGHT` (1.5: around the knee, where the bench saw it give way), *far beyond* past
it. A platform of the user's own (``--target``) is not judged: nothing is known of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from spikekit.reference_platform.capacity import PlatformCapacity
from spikekit.rundir.meta import MachineFitRecord
from spikekit.scenarios import Scenario
from spikekit.scenarios.target import PlatformTarget

#: Past this ratio a scenario is far beyond the machine (the bench's platform gave way
#: at 1.3x its knee's players).
TIGHT = 1.5
#: Without a bench figure: the CPU of every process per request (bench 2026-12-01,
#: 10.9 ms at the knee) and the share of the cores busy at the knee (1.22 of 2 cores).
ESTIMATE_CPU_MS = 11.0
KNEE_BUSY = 0.6
#: Answer time per action without a bench figure (the bench's: 3.12 s a cycle at 3 s think).
ESTIMATE_ANSWER_S = 0.12
MIN_CYCLE_S = 0.05  # no think time and instant answers: still not infinitely many requests


class Fit(StrEnum):
    FITS = "fits"
    TIGHT = "tight"
    FAR_BEYOND = "far beyond"


@dataclass(frozen=True)
class Holding:
    """What the bundled platform holds on this machine, in requests per second."""

    rps: float
    cores: int
    answer_s: float  # time of one answer, from the bench
    basis: str  # "bench 2026-12-01: 350 players, 112 req/s" or "estimate: ..."
    estimate: bool


@dataclass(frozen=True)
class MachineFit:
    scenario: str
    scale: float
    peak_players: int
    rps_per_player: float
    holding: Holding
    plan_command: bool = False  # `spikekit plan` exists to point to
    ref: str = ""  # the scenario as the user named it (a built-in name or a file)

    @property
    def peak_rps(self) -> float:
        return self.peak_players * self.rps_per_player

    @property
    def holds_players(self) -> int:
        return round(self.holding.rps / self.rps_per_player)

    @property
    def ratio(self) -> float:
        return self.peak_rps / self.holding.rps

    @property
    def fit(self) -> Fit:
        if self.ratio <= 1.0:
            return Fit.FITS
        return Fit.TIGHT if self.ratio <= TIGHT else Fit.FAR_BEYOND

    @property
    def fitting_scale(self) -> float | None:
        """The ``--scale`` at which the peak fits (two significant digits, rounded down)."""
        if self.fit is Fit.FITS:
            return None
        return floor_significant(self.scale / self.ratio)

    def holds_text(self) -> str:
        h = self.holding
        return (
            f"the bundled platform holds about {self.holds_players:,} players at this "
            f"scenario's pace (~{h.rps:,.0f} req/s) on this {h.cores}-core machine ({h.basis})"
        )

    def message(self) -> str:
        """One plain paragraph for the console (the dry run, the start of a run)."""
        peak = (
            f"{self.scenario} peaks at {self.peak_players:,} players (~{_sig(self.peak_rps)} req/s)"
        )
        if self.fit is Fit.FITS:
            return f"{peak}; {self.holds_text()}: {self.ratio:.2f}x, it fits."
        scale = f"--scale {self.fitting_scale:g}"
        if self.fit is Fit.TIGHT:
            return (
                f"{peak}; {self.holds_text()}: {self.ratio:.2f}x, tight: it may give way at "
                f"the peak, and a FAILED would then be this machine's. {scale} fits."
            )
        if self.plan_command:
            plan = f"spikekit plan {self.ref or self.scenario}" + (
                f" --scale {self.scale:g}" if self.scale != 1.0 else ""
            )
            more = f"or `{plan}` for what {self.peak_players:,} players need"
        else:
            more = "or replicas on more machines (docs/scaling-out.md)"
        return (
            f"{peak}; {self.holds_text()}: {_sig(self.ratio)}x beyond. Use {scale} to fit, "
            f"--target URL for a platform of your own, {more}."
        )

    def record(self) -> MachineFitRecord:
        """What the run directory keeps (``meta.json``), for the report's verdict."""
        return MachineFitRecord(
            fit=self.fit.value,
            ratio=self.ratio,
            peak_players=self.peak_players,
            peak_rps=self.peak_rps,
            holds_players=self.holds_players,
            holds_rps=self.holding.rps,
            cores=self.holding.cores,
            basis=self.holding.basis,
            estimate=self.holding.estimate,
            fitting_scale=self.fitting_scale,
            message=self.message(),
        )


def check_fit(
    scenario: Scenario,
    cores: int,
    capacity: PlatformCapacity | None,
    *,
    missing: str = "no bench figure",
    plan_command: bool = False,
    ref: str = "",
) -> MachineFit | None:
    """The scenario (after ``--scale``) against this machine's bundled platform; None
    for a platform of the user's own. ``missing`` says why ``capacity`` is None."""
    if not isinstance(scenario.target, PlatformTarget):
        return None
    holding = holding_of(capacity, cores, missing)
    return MachineFit(
        scenario=scenario.name,
        scale=scenario.scale,
        peak_players=scenario.peak_players,
        rps_per_player=rps_per_player(scenario, holding.answer_s),
        holding=holding,
        plan_command=plan_command,
        ref=ref,
    )


def holding_of(capacity: PlatformCapacity | None, cores: int, missing: str) -> Holding:
    cores = max(cores, 1)
    if capacity is None:
        rps = cores * 1000.0 / ESTIMATE_CPU_MS * KNEE_BUSY
        basis = (
            f"estimate: {_cores(cores)} x 1000 / {ESTIMATE_CPU_MS:g} ms of CPU per request x "
            f"{KNEE_BUSY:g} busy at the knee; {missing}"
        )
        return Holding(rps, cores, ESTIMATE_ANSWER_S, basis, estimate=True)
    answer_s = max(1.0 / capacity.rps_per_player - capacity.think_mean_s, 0.0)
    bench = (
        f"bench {capacity.date}: {'at least ' if capacity.censored else ''}"
        f"{capacity.knee_players:,} players, {capacity.knee_rps:,.0f} req/s"
    )
    if cores == capacity.cores:
        return Holding(capacity.knee_rps, cores, answer_s, bench, estimate=False)
    rps = capacity.knee_rps * cores / capacity.cores
    basis = f"{bench} on {_cores(capacity.cores)}, scaled to {_cores(cores)}: an estimate"
    return Holding(rps, cores, answer_s, basis, estimate=True)


def rps_per_player(scenario: Scenario, answer_s: float) -> float:
    think = scenario.think_time
    mean = (think.min + think.max) / 2
    cycle = mean if think.pacing else mean + answer_s
    return 1.0 / max(cycle, MIN_CYCLE_S)


def floor_significant(value: float, digits: int = 2) -> float:
    """``value`` rounded down to ``digits`` significant digits (0.002916 -> 0.0029)."""
    if value <= 0 or not math.isfinite(value):
        return 0.0
    step = 10.0 ** (math.floor(math.log10(value)) - digits + 1)
    return float(f"{math.floor(value / step + 1e-9) * step:.{digits}g}")


def _sig(value: float) -> str:
    """Two significant digits with thousands separators: 38,000; 340; 1.3."""
    if value >= 100:
        return f"{float(f'{value:.2g}'):,.0f}"
    return f"{value:.2g}"


def _cores(n: int) -> str:
    return f"{n} core{'' if n == 1 else 's'}"
