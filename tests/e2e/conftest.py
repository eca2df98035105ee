"""Fixtures of the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lucky import Lucky, lucky_api


@pytest.fixture
def lucky(tmp_path: Path) -> Iterator[Lucky]:
    """The example API of examples/own-platform behind a real Toxiproxy, for one test."""
    with lucky_api(tmp_path) as api:
        yield api
