"""The control API's fault kinds, the fault table and the admission gate, without a network."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from pydantic import TypeAdapter, ValidationError

from spikekit.reference_platform.providers.faults import (
    ActiveFault,
    Fault,
    FaultTable,
    Gate,
    Rejected,
)
from tests.unit.fake_clock import FakeClock, until

FAULT = TypeAdapter(Fault)


def _set(gate: Gate, fault_id: str, body: dict[str, object], provider: str = "aurora") -> None:
    fault = FAULT.validate_python(body)
    gate.faults.put(provider, fault_id, ActiveFault(provider, fault_id, fault, None))


@pytest.mark.parametrize(
    "body",
    [
        {"type": "errors", "rate": 1.5},
        {"type": "errors", "status_codes": [404]},
        {"type": "errors", "status_codes": []},
        {"type": "capacity", "max_concurrent": -1},
        {"type": "rate_limit"},
        {"type": "latency", "latency_ms": 10, "surprise": 1},
        {"type": "meteor"},
        {"type": "hang", "expires_in_s": 0},
    ],
)
def test_bad_fault_bodies_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FAULT.validate_python(body)


async def _admit(gate: Gate, counts: bool = True) -> None:
    async with gate.admit(counts_capacity=counts):
        pass


def test_errors_fail_requests_with_the_given_statuses_until_deleted() -> None:
    gate = Gate("aurora", capacity=10, rate_limit_rps=None, rng=random.Random(1))
    _set(gate, "down", {"type": "errors", "rate": 1.0, "status_codes": [502, 429]})
    statuses = set()
    for _ in range(50):
        with pytest.raises(Rejected) as caught:
            asyncio.run(_admit(gate))
        statuses.add(caught.value.status)
    assert statuses == {502, 429}
    assert gate.faults.delete("aurora", "down") and not gate.faults.delete("aurora", "down")
    asyncio.run(_admit(gate))


def test_only_the_studios_own_faults_apply() -> None:
    gate = Gate("aurora", capacity=10, rate_limit_rps=None)
    _set(gate, "down", {"type": "errors"}, provider="blitz")
    asyncio.run(_admit(gate))
    assert [f.provider for f in gate.faults.active()] == ["blitz"]


def test_faults_expire_by_themselves() -> None:
    table = FaultTable()
    fault = FAULT.validate_python({"type": "hang"})
    table.put("aurora", "h", ActiveFault("aurora", "h", fault, time.time() + 60))
    table.put("aurora", "old", ActiveFault("aurora", "old", fault, time.time() - 1))
    assert [f.fault_id for f in table.active("aurora")] == ["h"]
    assert table.active()[0].listing()["type"] == "hang"
    table.clear("aurora")
    assert table.active() == []


def test_own_capacity_gives_429_and_the_capacity_fault_503() -> None:
    async def scenario() -> list[int]:
        gate = Gate("aurora", capacity=2, rate_limit_rps=None)
        statuses: list[int] = []
        async with gate.admit(True), gate.admit(True):
            try:
                await _admit(gate)
            except Rejected as error:
                statuses.append(error.status)
            await _admit(gate, counts=False)  # launches do not hold capacity
        _set(gate, "cap", {"type": "capacity", "max_concurrent": 0})
        try:
            await _admit(gate)
        except Rejected as error:
            statuses.append(error.status)
        return statuses

    assert asyncio.run(scenario()) == [429, 503]


def test_a_hang_holds_requests_until_the_fault_ends() -> None:
    clock = FakeClock()

    async def scenario() -> float:
        gate = Gate("aurora", capacity=10, rate_limit_rps=None, clock=clock)
        _set(gate, "h", {"type": "hang", "rate": 1.0})
        started = clock.now()
        held = asyncio.create_task(_admit(gate))
        await until(lambda: clock.sleeping)  # held by the hang
        await clock.advance(0.2)
        assert not held.done() and gate.in_flight == 1
        gate.faults.delete("aurora", "h")
        await asyncio.wait_for(held, 2)
        return clock.now() - started

    assert 0.2 <= asyncio.run(scenario()) < 1.0


def test_a_lost_hang_keeps_its_requests_after_it_ends_and_never_plays_them() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        gate = Gate("aurora", capacity=10, rate_limit_rps=None, hang_max_s=0.6, clock=clock)
        _set(gate, "h", {"type": "hang", "lost": True})
        held = asyncio.create_task(_admit(gate))
        await until(lambda: clock.sleeping)  # held by the hang
        await clock.advance(0.1)
        gate.faults.delete("aurora", "h")
        await clock.advance(0.2)
        assert not held.done() and gate.in_flight == 1  # still held, the fault is over
        await _admit(gate)  # a request after the fault goes through at once
        await clock.advance(0.3)  # hang_max_s reached
        with pytest.raises(Rejected) as caught:
            await asyncio.wait_for(held, 2)
        assert caught.value.status == 504 and gate.in_flight == 0

    asyncio.run(scenario())


def test_latency_faults_add_up() -> None:
    clock = FakeClock()
    gate = Gate("aurora", capacity=10, rate_limit_rps=None, clock=clock)
    _set(gate, "a", {"type": "latency", "latency_ms": 100})
    _set(gate, "b", {"type": "latency", "latency_ms": 60})
    started = clock.now()

    async def scenario() -> None:
        admitted = asyncio.create_task(_admit(gate))
        await until(lambda: clock.sleeping)
        await clock.advance(0.1)
        assert not admitted.done()  # one fault's latency is not enough
        await clock.advance(0.06)
        await asyncio.wait_for(admitted, 2)

    asyncio.run(scenario())
    assert clock.now() - started >= 0.16


def test_rate_limits_answer_429_with_their_retry_after() -> None:
    gate = Gate("aurora", capacity=10, rate_limit_rps=None)
    _set(gate, "rl", {"type": "rate_limit", "limit_rps": 1, "retry_after_s": 7})
    asyncio.run(_admit(gate))
    with pytest.raises(Rejected) as caught:
        asyncio.run(_admit(gate))
    assert caught.value.status == 429 and caught.value.retry_after == 7
    own = Gate("cobalt", capacity=10, rate_limit_rps=1)
    asyncio.run(_admit(own))
    with pytest.raises(Rejected):
        asyncio.run(_admit(own))
