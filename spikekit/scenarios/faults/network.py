"""Network faults: Toxiproxy toxics on a link between a service and a dependency."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from spikekit.scenarios.faults.base import FaultBase, FaultFamily, Millis, Share

# --- network: Toxiproxy on a link between a service and a dependency ------------------


class Direction(StrEnum):
    UPSTREAM = "upstream"  # client → server
    DOWNSTREAM = "downstream"  # server → client


class _Network(FaultBase):
    family = FaultFamily.NETWORK
    target_field = "link"
    link: str = Field(
        pattern=r"^\S+$", description="Toxiproxy proxy of the link, e.g. wallet-postgres."
    )

    def target_name(self) -> str:
        return self.link


class _Toxic(_Network):
    direction: Direction = Field(default=Direction.DOWNSTREAM, description="Stream affected.")
    toxicity: Share = Field(default=1.0, description="Share of connections affected, 0..1.")


class NetworkLatency(_Toxic):
    type: Literal["network.latency"]
    latency_ms: Millis = Field(description="Added delay per packet, ms.")
    jitter_ms: Millis = Field(default=0, description="Random +/- variation of the delay, ms.")


class NetworkTimeout(_Toxic):
    type: Literal["network.timeout"]
    timeout_ms: Millis = Field(
        default=0, description="Close the connection after this long; 0 = hold data forever."
    )


class NetworkResetPeer(_Toxic):
    type: Literal["network.reset_peer"]
    timeout_ms: Millis = Field(default=0, description="Reset (TCP RST) after this long, ms.")


class NetworkBandwidth(_Toxic):
    type: Literal["network.bandwidth"]
    rate_kb_s: int = Field(ge=0, description="Bandwidth limit, KB/s.")


class NetworkSlowClose(_Toxic):
    type: Literal["network.slow_close"]
    delay_ms: Millis = Field(description="Delay before the socket is closed, ms.")


class NetworkLimitData(_Toxic):
    type: Literal["network.limit_data"]
    max_bytes: int = Field(ge=1, description="Close the connection after this many bytes.")


class NetworkDown(_Network):
    type: Literal["network.down"]
