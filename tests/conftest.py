"""Helpers shared by every test layer."""

from __future__ import annotations

import os

import pytest

from spikekit.toxiproxy.server import INSTALL_HINT, find_toxiproxy_server


def require_toxiproxy() -> None:
    """Skip without toxiproxy-server, or fail when CI demands it (SPIKEKIT_REQUIRE_TOXIPROXY=1)."""
    if find_toxiproxy_server() is not None:
        return
    if os.environ.get("SPIKEKIT_REQUIRE_TOXIPROXY") == "1":
        pytest.fail(f"SPIKEKIT_REQUIRE_TOXIPROXY=1 but {INSTALL_HINT}")
    pytest.skip(INSTALL_HINT)
