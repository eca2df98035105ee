"""A real stack for the chaos tests: PostgreSQL, Redis, Toxiproxy, two small services.

``gateway`` (needs postgres and redis, through Toxiproxy links) and ``reporting``, a
throwaway service the process faults may kill. A thread answers the stack's control
requests for the module, as the supervisor's main loop does under ``platform up``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from spikekit.chaos.context import ChaosContext
from spikekit.reference_platform.control_api import StackControl
from spikekit.reference_platform.spec import ServiceSpec, StackSpec, ToxiproxyMode
from spikekit.reference_platform.state import StackState
from spikekit.reference_platform.supervisor import Stack
from tests.conftest import require_toxiproxy

APP = "spikekit.reference_platform.gateway.app:create_app"
SPEC = StackSpec(
    services=(
        ServiceSpec(name="gateway", app=APP, needs=("postgres", "redis")),
        ServiceSpec(name="reporting", app=APP),
    ),
    toxiproxy=ToxiproxyMode.ON,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The running stack, with its control channel answered by a thread of this module."""
    require_toxiproxy()
    stack = Stack(SPEC, tmp_path_factory.mktemp("chaos") / "stack")
    stack.start()
    stop = threading.Event()
    control = StackControl(stack)

    def serve() -> None:
        while not stop.wait(0.05):
            control.handle_pending()

    thread = threading.Thread(target=serve, name="stack-control", daemon=True)
    thread.start()
    try:
        yield stack
    finally:
        stop.set()
        thread.join(10)
        stack.stop()


@pytest.fixture(scope="module")
def state(stack: Stack) -> StackState:
    assert stack.state is not None
    return stack.state


@pytest.fixture
def ctx(stack: Stack) -> ChaosContext:
    return ChaosContext.for_platform(stack.state_dir)


def link(state: StackState, name: str) -> str:
    """``host:port`` services connect to for link ``name``."""
    return next(k.listen for k in state.links if k.name == name)


def state_dir(stack: Stack) -> Path:
    return stack.state_dir
