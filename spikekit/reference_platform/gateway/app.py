"""The gateway's app factory, where the stack specs name it (``gateway.app:create_app``)."""

from __future__ import annotations

from spikekit.reference_platform.gateway.entrypoints.app import create_app

__all__ = ["create_app"]
