"""One real stack per test module: resilient (full journeys) or fragile (small)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spikekit.reference_platform.spec import Profile
from tests.conftest import require_toxiproxy
from tests.integration.gateway.harness import FULL, SMALL, Platform, running_platform

# the resilient gateway admits 10 requests at once, keeps validations long enough for a
# test to count them and has no in-process lobby copy (the tests watch the Redis tier);
# the fragile one has no bound but only 4 connections to each dependency and a 2 s
# timeout, so that queueing shows in seconds
RESILIENT_ENV = {
    "SPIKEKIT_GATEWAY_MAX_IN_FLIGHT": "10",
    "SPIKEKIT_GATEWAY_SESSION_CACHE_TTL_S": "30",
    "SPIKEKIT_GATEWAY_LOBBY_LOCAL_TTL_S": "0",
}
FRAGILE_ENV = {"SPIKEKIT_GATEWAY_POOL_SIZE": "4", "SPIKEKIT_GATEWAY_FRAGILE_TIMEOUT_S": "2"}


@pytest.fixture(scope="module")
def resilient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    require_toxiproxy()
    tmp = tmp_path_factory.mktemp("gateway")
    with running_platform(tmp, FULL, Profile.RESILIENT, RESILIENT_ENV) as platform:
        yield platform


@pytest.fixture(scope="module")
def fragile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    require_toxiproxy()
    tmp = tmp_path_factory.mktemp("gateway-fragile")
    with running_platform(tmp, SMALL, Profile.FRAGILE, FRAGILE_ENV) as platform:
        yield platform
