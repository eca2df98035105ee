"""The per-worker state the personas share: the scenario, identities, acks, session count.

Pure Python (no gevent): a worker process builds one :class:`WorkerContext` when the master
sends its setup, and the personas read it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from spikekit.load.impatience import ImpatiencePolicy
from spikekit.load.players import PlayerPicker, SlotAllocator, global_index, registrant_username
from spikekit.load.protocol import Setup
from spikekit.rundir.acks import AckLog
from spikekit.scenarios import OpenShape, Scenario, shape_for


@dataclass
class WorkerContext:
    scenario: Scenario
    worker_index: int
    workers_total: int
    started_at: float
    acks: AckLog
    unacked: AckLog
    picker: PlayerPicker
    slots: SlotAllocator = field(default_factory=SlotAllocator)
    session_length_s: float | None = None  # open model: one session per user
    max_sessions: float | None = None  # open model cap, this worker's share
    active: int = 0  # players in a session now (the "actual players" of this worker)
    turned_away: int = 0  # open-model arrivals over the cap
    serial: int = 0  # users started on this worker

    @classmethod
    def from_setup(cls, setup: Setup, acks: AckLog, unacked: AckLog) -> WorkerContext:
        scenario = setup.scenario
        shape = shape_for(scenario)
        length = cap = None
        if isinstance(shape, OpenShape):
            length = shape.session_length_s
            if shape.max_players is not None:
                cap = shape.max_players / setup.workers_total
        return cls(
            scenario=scenario,
            worker_index=setup.worker_index,
            workers_total=setup.workers_total,
            started_at=setup.started_at,
            acks=acks,
            unacked=unacked,
            picker=PlayerPicker(scenario.seed, scenario.population.accounts),
            session_length_s=length,
            max_sessions=cap,
        )

    def new_identity(self) -> Identity:
        """A slot, its global index and the player's own seeded random source."""
        slot = self.slots.acquire()
        self.serial += 1
        index = global_index(self.worker_index, self.workers_total, slot)
        rng = random.Random(f"{self.scenario.seed}:{index}:{self.serial}")
        return Identity(
            slot=slot,
            index=index,
            rng=rng,
            policy=ImpatiencePolicy(self.scenario.impatience, rng),
            serial=self.serial,
        )

    def registrant_name(self, identity: Identity) -> str:
        salt = identity.rng.getrandbits(24)
        return registrant_username(
            self.scenario.seed, self.worker_index, identity.serial, salt, int(self.started_at)
        )

    def session_open(self) -> bool:
        """Whether an arriving open-model player may start (below the cap)."""
        return self.max_sessions is None or self.active < self.max_sessions


@dataclass
class Identity:
    slot: int
    index: int
    rng: random.Random
    policy: ImpatiencePolicy
    serial: int
