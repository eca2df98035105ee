"""What the user asked for on the command line, and the scenario it resolves to."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import ValidationError

from spikekit.errors import ConfigError
from spikekit.run.live_metrics_server import check_bind
from spikekit.scenarios import Scenario, load_scenario
from spikekit.scenarios.journeys import with_locustfile
from spikekit.scenarios.target import PlatformTarget, Profile, UrlTarget
from spikekit.scenarios.telemetry import Telemetry
from spikekit.telemetry.recorder import ScrapeTarget

SERVICE_NAME = re.compile(r"[a-z][a-z0-9_-]*")


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
    #: ``SERVICE=URL`` of a platform of the user's own whose ``/metrics`` the run records
    scrape: tuple[str, ...] = ()
    #: a locustfile of the user's own (instead of the scenario's players), relative to cwd
    locustfile: Path | None = None
    #: serve the run's own metrics on this port (docs/live-metrics.md); None: not served
    metrics_port: int | None = None
    metrics_bind: str = "127.0.0.1"  # another than loopback needs --allow-target ADDR

    def resolve(self) -> Scenario:
        """The scenario with the command line's overrides applied.

        An override the scenario refuses raises :class:`ConfigError` naming the option
        (``--scale 50: ...``), never pydantic's ValidationError.
        """
        scenario = load_scenario(self.scenario)
        try:
            scenario = scenario.with_overrides(
                scale=self.scale, duration_scale=self.duration_scale, seed=self.seed
            )
        except ValidationError as error:
            raise ConfigError(self._override_message(error)) from None
        if self.target_url is not None:
            try:
                url = UrlTarget(url=self.target_url).url
                target: PlatformTarget | UrlTarget = UrlTarget(url=url)
                if isinstance(scenario.target, UrlTarget):  # keep its ledger: only the URL moves
                    target = scenario.target.model_copy(update={"url": url})
            except ValidationError as error:
                reason = "; ".join(str(e["msg"]) for e in error.errors())
                raise ConfigError(f"--target {self.target_url}: {reason}") from None
            scenario = scenario.model_copy(update={"target": target})
        elif self.profile is not None and isinstance(scenario.target, PlatformTarget):
            target = scenario.target.model_copy(update={"profile": self.profile})
            scenario = scenario.model_copy(update={"target": target})
        if self.locustfile is not None:
            try:
                own = with_locustfile(scenario.players, self.locustfile, Path.cwd())
            except ValueError as error:
                raise ConfigError(f"--locustfile {self.locustfile}: expected {error}") from None
            scenario = scenario.model_copy(update={"players": own})
        if self.scrape and not isinstance(scenario.target, UrlTarget):
            raise ConfigError(
                "--scrape: only for a platform of your own (--target URL); the bundled "
                "platform's services are recorded already"
            )
        telemetry = scenario.telemetry
        if (
            telemetry is not None
            and not telemetry.empty
            and isinstance(scenario.target, PlatformTarget)
        ):
            raise ConfigError(
                f"{self.scenario}: telemetry: only for a platform of your own (target: "
                "{url: ...} or --target URL); the bundled platform's services are recorded "
                "already"
            )
        self.scrape_targets()  # each one checked
        self.check_metrics()
        return scenario

    def check_metrics(self) -> None:
        """``--metrics-bind`` only with ``--metrics-port``, and loopback unless allowed."""
        if self.metrics_port is None:
            if self.metrics_bind != "127.0.0.1":
                raise ConfigError(
                    f"--metrics-bind {self.metrics_bind}: expected --metrics-port PORT with it "
                    "(the address the run's metrics are served on)"
                )
            return
        check_bind(self.metrics_bind, self.allow_targets)

    def scrape_targets(self, telemetry: Telemetry | None = None) -> list[ScrapeTarget]:
        """The ``--scrape SERVICE=URL`` values, then the scenario's ``telemetry.scrape``;
        a service named twice gets instances ``SERVICE-1``, ``SERVICE-2`` as the bundled
        platform names its replicas."""
        pairs: list[tuple[str, str]] = []
        for value in self.scrape:
            name, _, url = value.partition("=")
            parts = urlsplit(url)
            if not SERVICE_NAME.fullmatch(name) or parts.scheme not in ("http", "https"):
                raise ConfigError(
                    f"--scrape {value}: expected SERVICE=URL, e.g. "
                    "gateway=http://127.0.0.1:8000 (a lower-case service name, an http URL)"
                )
            if not parts.hostname:
                raise ConfigError(f"--scrape {value}: the URL has no host")
            pairs.append((name, url.rstrip("/")))
        pairs += [(s.service, s.url) for s in (telemetry.scrape if telemetry else [])]
        counts = Counter(name for name, _ in pairs)
        seen: Counter[str] = Counter()
        targets = []
        for name, url in pairs:
            seen[name] += 1
            instance = f"{name}-{seen[name]}" if counts[name] > 1 else None
            targets.append(ScrapeTarget(name, url, instance))
        return targets

    def _override_message(self, error: ValidationError) -> str:
        """``--scale 50: <what the scenario expected>``, for the overrides given."""
        given = {
            "scale": ("--scale", self.scale),
            "duration_scale": ("--duration-scale", self.duration_scale),
            "seed": ("--seed", self.seed),
        }
        named = [f"{o} {v:g}" for o, v in given.values() if v is not None]
        lines = []
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else ""
            option = given.get(field)
            who = f"{option[0]} {option[1]:g}" if option else ", ".join(named) or self.scenario
            msg = str(problem["msg"]).removeprefix("Value error, ")
            lines.append(f"{who}: {msg} (scenario {self.scenario})")
        return "; ".join(lines)
