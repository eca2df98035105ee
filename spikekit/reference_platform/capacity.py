"""``capacity.json``: what the bundled platform holds on the machine it was benched on.

The platform bench (``python -m bench --only platform``, RESULTS.md section 6) writes it
each time it finds a knee (:func:`write_capacity`); the dry run and the start of a run
read it (:func:`read_capacity`) to compare a scenario's peak with it. The file sits in
this package so that it travels with the code it measured:

- ``knee_players`` / ``knee_rps``: the highest step held (rounds p95 < 1 s in 90 % of
  the seconds, errors < 2 %) and the requests per second at it;
- ``rps_per_player``: the requests per second one player in session made there, at the
  bench scenario's think time (``think_min_s`` .. ``think_max_s``, not paced);
- ``cpu_ms_per_request`` and ``cpu_ms_by_process``: user + system CPU of every process
  of the run divided by the requests of the knee's window, in all and by process;
- ``cores``, ``cpu_model``, ``date``, ``commit``, ``command``, ``source``: where and how.

One owner for the format: the bench writes through this module, the toolkit reads
through it, nobody parses the JSON by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from spikekit.figures import read_figure, write_figure

CAPACITY_FILE = Path(__file__).with_name("capacity.json")
FORMAT_VERSION: Literal[1] = 1


class PlatformCapacity(BaseModel):
    """The bundled platform's knee on one machine, as the platform bench measured it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = FORMAT_VERSION
    knee_players: int = Field(ge=1, description="Players in session at the highest step held.")
    censored: bool = Field(
        default=False, description="The top step was held: the knee is at least there."
    )
    knee_rps: float = Field(gt=0, description="Requests per second at the knee.")
    rps_per_player: float = Field(gt=0, description="knee_rps / players in session.")
    think_min_s: float = Field(ge=0, description="The bench scenario's shortest think time.")
    think_max_s: float = Field(ge=0, description="Its longest think time (not paced).")
    p95_ms: float | None = Field(default=None, description="p95 of all requests at the knee.")
    cpu_ms_per_request: float = Field(gt=0, description="CPU of every process per request.")
    cpu_ms_by_process: dict[str, float] = Field(default_factory=dict)
    cores: int = Field(ge=1, description="CPUs of the benched machine.")
    cpu_model: str = ""
    profile: str = "resilient"
    date: str = Field(description="YYYY-MM-DD of the bench run.")
    commit: str = ""
    command: str = ""
    source: str = Field(default="", description="Where the figure comes from.")

    @property
    def think_mean_s(self) -> float:
        return (self.think_min_s + self.think_max_s) / 2


def read_capacity(path: Path = CAPACITY_FILE) -> PlatformCapacity | None:
    """The figure in ``path``; None when there is none; :class:`ConfigError` naming the
    file when it cannot be read or is not a capacity figure."""
    return read_figure(path, PlatformCapacity, "a platform capacity figure")


def write_capacity(capacity: PlatformCapacity, path: Path = CAPACITY_FILE) -> Path:
    """Replace ``path`` whole (written beside it, then renamed over)."""
    return write_figure(capacity, path)
