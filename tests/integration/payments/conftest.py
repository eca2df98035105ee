"""One resilient platform per test module: wallet, payments, two workers, reporting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spikekit.reference_platform.spec import Profile
from tests.integration.payments.harness import (
    PAYMENTS,
    REPORTING,
    WALLET,
    WORKERS,
    Platform,
    running_platform,
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp("payments")
    services = (WALLET, PAYMENTS, WORKERS, REPORTING)
    with running_platform(tmp, services, Profile.RESILIENT, {}) as running:
        yield running
