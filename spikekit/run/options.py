"""What the user asked for on the command line, and the scenario it resolves to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from spikekit.scenarios import Scenario, load_scenario
from spikekit.scenarios.target import PlatformTarget, Profile, UrlTarget


@dataclass(frozen=True)
class RunOptions:
    scenario: str  # a built-in name or a path
    scale: float | None = None
    duration_scale: float | None = None
    profile: Profile | None = None
    target_url: str | None = None  # a platform of the user's own instead of the bundled one
    out: Path = Path("runs")
    workers: int | Literal["auto"] = "auto"
    dry_run: bool = False
    allow_targets: tuple[str, ...] = ()
    toxiproxy_url: str | None = None
    seed: int | None = None
    players: int | None = None  # seeded players; default: the scenario's population
    drain_s: float = 5.0  # after the load: let queues settle before the audit
    remote_workers: int = 0  # Locust workers on other machines (spikekit worker --master)
    master_bind: str = "127.0.0.1"
    master_port: int | None = None

    def resolve(self) -> Scenario:
        """The scenario with the command line's overrides applied."""
        scenario = load_scenario(self.scenario).with_overrides(
            scale=self.scale, duration_scale=self.duration_scale, seed=self.seed
        )
        if self.target_url is not None:
            target: PlatformTarget | UrlTarget = UrlTarget(url=self.target_url)
            scenario = scenario.model_copy(update={"target": target})
        elif self.profile is not None and isinstance(scenario.target, PlatformTarget):
            target = scenario.target.model_copy(update={"profile": self.profile})
            scenario = scenario.model_copy(update={"target": target})
        return scenario
