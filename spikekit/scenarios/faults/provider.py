"""Provider faults: the game-provider simulators' control API (the HTTP-level faults)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from spikekit.scenarios.faults.base import FaultBase, FaultFamily, Millis, Share

# --- provider: the game-provider simulators' control API --------------------------------


class _Provider(FaultBase):
    family = FaultFamily.PROVIDER
    target_field = "provider"
    provider: str = Field(
        default="busiest",
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Provider id, or busiest = the one with most rounds when the fault starts.",
    )

    def target_name(self) -> str:
        return f"provider:{self.provider}"


class ProviderErrors(_Provider):
    type: Literal["provider.errors"]
    rate: Share = Field(default=1.0, description="Share of requests that fail, 0..1.")
    status_codes: list[Annotated[int, Field(ge=500, le=599)]] = Field(
        default_factory=lambda: [500, 502, 503],
        min_length=1,
        description="HTTP status codes returned, chosen at random (5xx).",
    )


class ProviderRateLimit(_Provider):
    type: Literal["provider.rate_limit"]
    limit_rps: float = Field(gt=0, description="Requests/s served; the rest get 429.")
    retry_after_s: int = Field(default=1, ge=0, description="Retry-After header of the 429s.")


class ProviderLatency(_Provider):
    type: Literal["provider.latency"]
    latency_ms: Millis = Field(description="Added response time, ms.")
    jitter_ms: Millis = Field(default=0, description="Random +/- variation, ms.")


class ProviderHang(_Provider):
    type: Literal["provider.hang"]
    rate: Share = Field(default=1.0, description="Share of requests held without an answer, 0..1.")
    lost: bool = Field(
        default=False,
        description="true: the requests it caught stay unanswered after it ends (the studio "
        "lost them); false: they are played when it ends.",
    )


class ProviderCapacity(_Provider):
    type: Literal["provider.capacity"]
    max_concurrent: int = Field(ge=0, description="Requests in flight served; beyond: 503.")
