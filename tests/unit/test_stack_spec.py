"""The stack as data: replicas, dependencies, validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from spikekit.errors import ConfigError
from spikekit.reference_platform.spec import (
    Backing,
    Profile,
    ServiceSpec,
    StackSpec,
    default_stack,
)


def test_with_replicas_changes_only_the_named_service() -> None:
    stack = default_stack().with_replicas(gateway=2)
    assert stack.service("gateway").replicas == 2
    assert default_stack().service("gateway").replicas == 1


def test_unknown_service_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no service 'cashier'"):
        default_stack().with_replicas(cashier=2)


def test_a_need_on_an_unknown_service_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs unknown service 'auth'"):
        StackSpec(services=(ServiceSpec(name="gateway", app="m:f", needs=("auth",)),))


def test_backing_services_are_derived_from_needs() -> None:
    spec = StackSpec(
        services=(
            ServiceSpec(name="a", app="m:f", needs=("redis",)),
            ServiceSpec(name="b", app="m:f", needs=("a",)),
        )
    )
    assert spec.backing == [Backing.REDIS]
    assert spec.service("b").service_needs == ["a"]


def test_options_keep_services() -> None:
    spec = default_stack().with_options(profile=Profile.FRAGILE)
    assert spec.profile is Profile.FRAGILE
    assert spec.names == default_stack().names
