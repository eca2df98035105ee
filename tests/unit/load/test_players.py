from __future__ import annotations

import random

import pytest

from spikekit.load.players import (
    Credentials,
    PlayerPicker,
    SlotAllocator,
    class_weights,
    global_index,
)
from spikekit.scenarios.personas import PersonaMix


def test_credentials_follow_the_seeded_accounts() -> None:
    c = Credentials(70)
    assert (c.player_id, c.username, c.password) == ("p000070", "player000070", "spike-6")
    assert Credentials(64).password == "spike-0"


@pytest.mark.parametrize("accounts", [1, 2, 97, 1000, 200_000])
def test_picker_is_a_permutation_of_the_accounts(accounts: int) -> None:
    picker = PlayerPicker(seed=3, accounts=accounts)
    n = min(accounts, 5000)
    numbers = {picker.number(i) for i in range(n)}
    assert len(numbers) == n
    assert all(1 <= x <= accounts for x in numbers)


def test_picker_depends_on_the_seed_and_is_deterministic() -> None:
    a, b = PlayerPicker(1, 10_000), PlayerPicker(2, 10_000)
    assert [a.number(i) for i in range(20)] == [
        PlayerPicker(1, 10_000).number(i) for i in range(20)
    ]
    assert [a.number(i) for i in range(20)] != [b.number(i) for i in range(20)]


def test_workers_never_share_a_player() -> None:
    picker, workers = PlayerPicker(seed=9, accounts=20_000), 3
    allocators = [SlotAllocator() for _ in range(workers)]
    rng = random.Random(1)
    live: dict[tuple[int, int], int] = {}  # (worker, slot) → player
    playing: set[int] = set()
    for _ in range(20_000):  # users start and stop on random workers
        worker = rng.randrange(workers)
        if live and rng.random() < 0.4:
            key = rng.choice(list(live))
            allocators[key[0]].release(key[1])
            playing.discard(live.pop(key))
            continue
        slot = allocators[worker].acquire()
        player = picker.number(global_index(worker, workers, slot))
        assert player not in playing
        live[(worker, slot)] = player
        playing.add(player)


def test_slots_are_reused_smallest_first() -> None:
    slots = SlotAllocator()
    assert [slots.acquire() for _ in range(4)] == [0, 1, 2, 3]
    slots.release(2)
    slots.release(0)
    slots.release(0)  # twice: ignored
    assert [slots.acquire(), slots.acquire(), slots.acquire()] == [0, 2, 4]
    assert slots.in_use == 5


def test_global_index_rejects_bad_worker() -> None:
    with pytest.raises(ValueError):
        global_index(2, 2, 0)


def test_class_weights_leave_out_zero_weight_personas() -> None:
    weights = class_weights(PersonaMix(high_roller=0, new_registrant=0))
    assert set(weights) == {"SlotPlayer", "Depositor", "LobbyBrowser"}
    assert weights["SlotPlayer"] == 60


def test_every_player_gets_its_own_client_address() -> None:
    from spikekit.load.players import player_address

    addresses = {player_address(i) for i in range(120_000)}
    assert len(addresses) == 120_000
    assert player_address(0) == "10.0.0.0" and player_address(65_537) == "10.1.0.1"
