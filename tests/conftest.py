"""Helpers shared by every test layer."""

from __future__ import annotations

import os

import pytest

from spikekit.toxiproxy.server import INSTALL_HINT, find_toxiproxy_server
from tests import image_prebuild

#: Test layers in the order they run: the unit tests first, while the container images
#: build in the background (tests/image_prebuild.py), then what starts real servers.
LAYERS = ("tests/unit/", "tests/integration/", "tests/e2e/")
CONTAINER_TESTS = "tests/integration/deploy/test_containers.py"


def _layer(item: pytest.Item) -> int:
    path = item.nodeid
    return next((i for i, layer in enumerate(LAYERS) if path.startswith(layer)), 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_layer)  # stable: each layer keeps its order
    if any(item.nodeid.startswith(CONTAINER_TESTS) for item in items):
        image_prebuild.start()


def pytest_sessionfinish() -> None:
    image_prebuild.stop()


def require_toxiproxy() -> None:
    """Skip without toxiproxy-server, or fail when CI demands it (SPIKEKIT_REQUIRE_TOXIPROXY=1)."""
    if find_toxiproxy_server() is not None:
        return
    if os.environ.get("SPIKEKIT_REQUIRE_TOXIPROXY") == "1":
        pytest.fail(f"SPIKEKIT_REQUIRE_TOXIPROXY=1 but {INSTALL_HINT}")
    pytest.skip(INSTALL_HINT)
