"""Service-level objectives as scenario data, shared by scenarios and analysis."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SLOMetric(StrEnum):
    """What an SLO measures, and the unit of its threshold."""

    LATENCY_P95 = "latency_p95"  # ms, per endpoint or "*"
    LATENCY_P99 = "latency_p99"  # ms
    ERROR_RATE = "error_rate"  # fraction of requests failed, 0..1
    LOGIN_SUCCESS_RATE = "login_success_rate"  # fraction of logins that succeeded, 0..1 (a floor)
    WALLET_LATENCY_P95 = "wallet_latency_p95"  # ms, the platform's wallet transaction latency
    STREAM_LAG = "stream_lag"  # messages behind, from platform metrics


#: Metrics whose threshold is a floor (breached when the value falls below it).
FLOOR_METRICS = frozenset({SLOMetric.LOGIN_SUCCESS_RATE})


class SLO(BaseModel):
    """One objective: ``metric`` over a rolling ``window_s`` must stay within ``threshold``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    metric: SLOMetric
    threshold: float = Field(ge=0)
    endpoint: str = "*"
    window_s: int = Field(default=10, ge=1, le=3600)

    @property
    def is_floor(self) -> bool:
        return self.metric in FLOOR_METRICS


class RecoveryPolicy(BaseModel):
    """When a breached SLO counts as recovered: back within SLO for ``stable_s`` seconds.

    ``stall_s``: no request answered for this long while players are in session is a
    breach too — a platform that answers nothing produces no latency to judge.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    stable_s: int = Field(default=10, ge=1, le=3600)
    stall_s: int = Field(
        default=10,
        ge=1,
        le=3600,
        description="seconds without any answer, players in session, that count as a breach",
    )
