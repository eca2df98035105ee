"""A stop condition on a platform signal: ``metric: query`` with ``series:`` or ``query:``.

Kept apart from :mod:`spikekit.scenarios.model` so that the stop condition there only
inherits it. The live run feeds such a condition the latest second the platform recorder
took of the series (the worst matching label set, lowest for a ``floor``); ``query:`` is
evaluated as a query of ``telemetry.prometheus`` under a name derived from the expression.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from spikekit.scenarios.slo import SeriesRef, SLOMetric, check_signal, series_signal
from spikekit.scenarios.telemetry import PROMETHEUS_SERVICE, check_promql, query_series_name


class PlatformSignal(BaseModel):
    """The fields and rules a stop condition adds for ``metric: query``."""

    metric: SLOMetric = Field(description="What is watched (the SLO metrics).")
    series: SeriesRef | None = Field(
        default=None, description="metric query: the recorded series watched (worst label set)."
    )
    query: str | None = Field(
        default=None, description="metric query: a PromQL expression of telemetry.prometheus."
    )
    floor: bool = Field(default=False, description="metric query: stop below the threshold.")

    @model_validator(mode="before")
    @classmethod
    def _query_series(cls, data: Any) -> Any:
        query = data.get("query") if isinstance(data, dict) else None
        if isinstance(query, str) and data.get("metric") == "query" and not data.get("series"):
            metric = query_series_name("stop", check_promql(query))
            data = {**data, "series": {"metric": metric, "service": PROMETHEUS_SERVICE}}
        return data

    @field_validator("query")
    @classmethod
    def _promql(cls, query: str | None) -> str | None:
        return None if query is None else check_promql(query)

    @model_validator(mode="after")
    def _fits(self) -> PlatformSignal:
        check_signal(self.metric, self.series, self.query, self.floor, "stop", self.query or "")
        return self

    @property
    def signal(self) -> str | None:
        """How the live run names the watched series (:func:`series_signal`), or None for
        a metric of the load."""
        if self.metric is not SLOMetric.QUERY or self.series is None:
            return None
        return series_signal(self.series)
