"""Who a simulated player is: persona classes, seeded credentials, collision-free picking.

Pure functions and small classes, no Locust: the personas (in the Locust worker processes)
call them, unit tests check them.

Player picking: every user a worker starts takes the smallest free *slot* of that worker
(:class:`SlotAllocator`). Worker ``w`` of ``W`` turns slot ``s`` into the global index
``w + W * s`` (disjoint stripes, so two workers never share an index), and a seeded affine
permutation maps the global index onto the accounts ``1 .. accounts``. Distinct indices below
``accounts`` give distinct players; only past ``accounts`` concurrent users do players repeat.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from spikekit.scenarios.personas import Persona, PersonaMix

#: The Locust user class of each persona (the names the master and the workers share).
PERSONA_CLASSES: dict[Persona, str] = {
    Persona.SLOT_PLAYER: "SlotPlayer",
    Persona.HIGH_ROLLER: "HighRoller",
    Persona.DEPOSITOR: "Depositor",
    Persona.LOBBY_BROWSER: "LobbyBrowser",
    Persona.NEW_REGISTRANT: "NewRegistrant",
}

#: Passwords of seeded players cycle through this many values (docs/gateway-api.md).
PASSWORD_CYCLE = 64


@dataclass(frozen=True)
class Credentials:
    """A seeded account: ``p000042`` / ``player000042`` / ``spike-42``."""

    number: int

    @property
    def player_id(self) -> str:
        return f"p{self.number:06d}"

    @property
    def username(self) -> str:
        return f"player{self.number:06d}"

    @property
    def password(self) -> str:
        return f"spike-{self.number % PASSWORD_CYCLE}"


def class_weights(mix: PersonaMix) -> dict[str, float]:
    """Locust class name → weight, leaving out personas of weight 0."""
    return {PERSONA_CLASSES[p]: w for p, w in mix.weights().items() if w > 0}


def global_index(worker_index: int, workers_total: int, slot: int) -> int:
    """The run-wide index of a worker's slot: worker ``w`` owns ``w, w + W, w + 2W, ...``."""
    if workers_total < 1 or not 0 <= worker_index < workers_total:
        raise ValueError(f"worker index {worker_index} outside 0..{workers_total - 1}")
    if slot < 0:
        raise ValueError("slot must be >= 0")
    return worker_index + workers_total * slot


class PlayerPicker:
    """A seeded permutation of the accounts: global index → account number (1-based)."""

    def __init__(self, seed: int, accounts: int) -> None:
        if accounts < 1:
            raise ValueError("accounts must be >= 1")
        self.seed = seed
        self.accounts = accounts
        rng = random.Random(f"spikekit-players-{seed}")
        self._a = 1
        for _ in range(1000):  # a multiplier coprime with ``accounts`` makes it a bijection
            candidate = rng.randrange(1, max(accounts, 2))
            if math.gcd(candidate, accounts) == 1:
                self._a = candidate
                break
        self._b = rng.randrange(accounts)

    def number(self, index: int) -> int:
        """The account of global index ``index``; a bijection on ``0 .. accounts - 1``."""
        return (self._a * index + self._b) % self.accounts + 1

    def credentials(self, index: int) -> Credentials:
        return Credentials(self.number(index))


class SlotAllocator:
    """Hands out the smallest free slot; a stopped user gives its slot back."""

    def __init__(self) -> None:
        self._free: list[int] = []
        self._next = 0
        self._used: set[int] = set()

    def acquire(self) -> int:
        slot = heapq.heappop(self._free) if self._free else self._next
        if slot == self._next:
            self._next += 1
        self._used.add(slot)
        return slot

    def release(self, slot: int) -> None:
        if slot in self._used:
            self._used.discard(slot)
            heapq.heappush(self._free, slot)

    @property
    def in_use(self) -> int:
        return len(self._used)


def registrant_username(seed: int, worker_index: int, serial: int, salt: int, run: int = 0) -> str:
    """A fresh username for a new registrant, unique per run (``run``: the run's start time,
    so a second run of the same scenario on the same platform registers new names), worker
    and user."""
    return f"new{seed}r{run:x}w{worker_index}n{serial}x{salt:06x}"


def player_address(index: int) -> str:
    """Each virtual player's own client address (sent as ``X-Forwarded-For``), so per-address
    login limits see 120,000 players, not one generator at 127.0.0.1."""
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"
