"""The wallet is part of the default stack and starts before the gateway."""

from __future__ import annotations

from spikekit.reference_platform.spec import default_stack


def test_the_wallet_starts_before_the_gateway() -> None:
    stack = default_stack()
    wallet = stack.service("wallet")
    assert wallet.app == "spikekit.reference_platform.wallet.entrypoints.app:create_app"
    assert set(wallet.needs) == {"postgres", "redis"}
    assert stack.names.index("wallet") < stack.names.index("gateway")
