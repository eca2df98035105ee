"""One real reference platform (the default stack, Toxiproxy on its links, seeded players)
shared by the modules of this package: starting it costs ~15 s on this machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spikekit.reference_platform.spec import default_stack
from spikekit.reference_platform.supervisor import Stack
from tests.conftest import require_toxiproxy

#: Accounts seeded on the stack; the scenarios' players log in as these.
ACCOUNTS = 3000


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_toxiproxy()  # every link of the default stack, for the network faults' check()
    spec = default_stack().with_options(players=ACCOUNTS)
    with Stack(spec, tmp_path_factory.mktemp("scenarios") / "stack") as running:
        yield running


def service_url(stack: Stack, name: str) -> str:
    return next(r.url for r in stack.replicas if r.spec.name == name)
