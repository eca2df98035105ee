"""Service-level objectives as scenario data, shared by scenarios and analysis.

Most SLOs are judged every second over a rolling window. ``unsettled_rounds`` is judged
once, at the end of the run (:data:`END_OF_RUN_METRICS`). SLOs of
:data:`TELEMETRY_METRICS` read the platform's metrics; on a platform of your own,
``series`` names the recorded series that stands for the metric (:class:`TelemetrySeries`).
``query`` judges any recorded series (a PromQL query's, a scraped metric's): ``series``
names it, or ``query`` is the PromQL itself (:mod:`spikekit.scenarios.telemetry`), and
``floor: true`` breaches it below the threshold instead of above.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from spikekit.scenarios.telemetry import PROMETHEUS_SERVICE, check_promql, query_series_name


class SLOMetric(StrEnum):
    """What an SLO measures, and the unit of its threshold."""

    LATENCY_P95 = "latency_p95"  # ms, per endpoint or "*"
    LATENCY_P99 = "latency_p99"  # ms
    ERROR_RATE = "error_rate"  # fraction of requests failed, 0..1
    LOGIN_SUCCESS_RATE = "login_success_rate"  # fraction of logins that succeeded, 0..1 (a floor)
    WALLET_LATENCY_P95 = "wallet_latency_p95"  # ms, the platform's wallet transaction latency
    STREAM_LAG = "stream_lag"  # messages behind, from platform metrics
    DEPOSIT_COMPLETION_P95 = "deposit_completion_p95"  # ms, deposit accepted → credited
    WITHDRAWAL_COMPLETION_P95 = "withdrawal_completion_p95"  # ms, accepted → paid out
    LAUNCH_SUCCESS_RATE = "launch_success_rate"  # fraction of game launches that worked (a floor)
    ROUND_ROLLBACK_RATE = "round_rollback_rate"  # rollbacks per bet the wallet applied, 0..1
    UNSETTLED_ROUNDS = "unsettled_rounds"  # rounds with a bet, no win, not rolled back: at the end
    QUERY = "query"  # any recorded series (``series``, or ``query``: PromQL), its own unit


#: Metrics whose threshold is a floor (breached when the value falls below it).
FLOOR_METRICS = frozenset({SLOMetric.LOGIN_SUCCESS_RATE, SLOMetric.LAUNCH_SUCCESS_RATE})

#: Metrics with one value, at the run's last second: never a fault's breach (they neither
#: detect nor delay a recovery), never excused by a fault's impact window.
END_OF_RUN_METRICS = frozenset({SLOMetric.UNSETTLED_ROUNDS})

#: Metrics read from the platform's telemetry, which ``series`` may map to a series of
#: a platform of your own (``launch_success_rate`` reads the players' launches unless mapped).
TELEMETRY_METRICS = frozenset(
    {
        SLOMetric.WALLET_LATENCY_P95,
        SLOMetric.STREAM_LAG,
        SLOMetric.DEPOSIT_COMPLETION_P95,
        SLOMetric.WITHDRAWAL_COMPLETION_P95,
        SLOMetric.LAUNCH_SUCCESS_RATE,
        SLOMetric.ROUND_ROLLBACK_RATE,
        SLOMetric.UNSETTLED_ROUNDS,
        SLOMetric.QUERY,
    }
)

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")
MAX_LABELS = 16
MAX_LABEL_VALUES = 32


def _label_values(name: str, wanted: object) -> list[str]:
    values = [wanted] if isinstance(wanted, str) else wanted
    if (
        not isinstance(values, list)
        or not 1 <= len(values) <= MAX_LABEL_VALUES
        or not all(isinstance(v, str) and len(v) <= 200 for v in values)
    ):
        raise ValueError(
            f"label {name!r}: a value or a list of 1 to {MAX_LABEL_VALUES} values (strings "
            f"of at most 200 characters), got {wanted!r}"
        )
    return list(values)


class SeriesRef(BaseModel):
    """Rows of ``platform_metrics.parquet``: a metric, from a service, with labels.

    ``metric`` is the name as recorded (a histogram ``x_seconds`` as ``x_p95_ms`` and
    ``x_per_s``, a counter ``x_total`` as ``x_per_s``: docs/run-directory.md). ``labels``:
    each must match; a list accepts any of its values (``{operation: [debit,
    bet_settle]}``). Written as a plain string, it is the metric alone.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(description="The metric's name as recorded.")
    service: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Only the rows of this service (the SERVICE of --scrape).",
    )
    labels: dict[str, list[str]] = Field(
        default_factory=dict, description="Labels that must match (a value or a list)."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"metric": data}
        if not isinstance(data, dict | BaseModel):
            raise ValueError(
                f"a metric name or a mapping (metric, service, labels, ...), got {data!r}"
            )
        return data

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, metric: str) -> str:
        if not _METRIC_NAME.match(metric):
            raise ValueError(
                "a metric name as recorded (letters, digits, '_' and ':', not starting "
                "with a digit, at most 200 characters)"
            )
        return metric

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, labels: Any) -> Any:
        if not isinstance(labels, dict):
            return labels  # pydantic says what was expected
        if len(labels) > MAX_LABELS:
            raise ValueError(f"at most {MAX_LABELS} labels, got {len(labels)}")
        out: dict[str, list[str]] = {}
        for name, wanted in labels.items():
            if not isinstance(name, str) or not _LABEL_NAME.match(name):
                raise ValueError(f"label names like 'kind' or 'status_code', got {name!r}")
            out[name] = _label_values(name, wanted)
        return out

    def accepts(self, labels: dict[str, str]) -> bool:
        """Whether a row with ``labels`` matches every label of this reference."""
        return all(labels.get(name) in wanted for name, wanted in self.labels.items())


class TelemetrySeries(SeriesRef):
    """Where an SLO of :data:`TELEMETRY_METRICS` reads its value on a platform of your own.

    Each second the value is the worst matching label set (highest; lowest for a floor),
    averaged over the window, times ``factor``; a ``_pNN_ms`` series of a histogram is
    weighted by its ``_per_s`` count. With ``per``, the value is ``sum(metric) / sum(per)``
    over the window instead (a ratio of two counters' rates). ``unsettled_rounds`` takes
    the worst label set's last value.
    """

    per: SeriesRef | None = Field(
        default=None, description="Denominator: the value is sum(metric) / sum(per)."
    )
    factor: float = Field(
        default=1.0, gt=0, le=1e9, description="Multiplies the value (units: 1000 for s → ms)."
    )


class SLO(BaseModel):
    """One objective: ``metric`` over a rolling ``window_s`` must stay within ``threshold``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    metric: SLOMetric
    threshold: float = Field(ge=0)
    endpoint: str = "*"
    window_s: int = Field(default=10, ge=1, le=3600)
    series: TelemetrySeries | None = Field(
        default=None,
        description="A series of your platform's telemetry standing for the metric.",
    )
    query: str | None = Field(
        default=None,
        description="metric query: a PromQL expression, evaluated each second as a query of "
        "telemetry.prometheus (its series: slo_<name>).",
    )
    floor: bool = Field(
        default=False, description="metric query: breached below the threshold, not above."
    )

    @model_validator(mode="before")
    @classmethod
    def _query_series(cls, data: Any) -> Any:
        """``query: PROMQL`` reads the series the run records it under."""
        if isinstance(data, dict) and data.get("metric") == "query" and not data.get("series"):
            name = data.get("name")
            if isinstance(name, str) and isinstance(data.get("query"), str):
                metric = query_series_name("slo", name)
                data = {**data, "series": {"metric": metric, "service": PROMETHEUS_SERVICE}}
        return data

    @field_validator("query")
    @classmethod
    def _promql(cls, query: str | None) -> str | None:
        return None if query is None else check_promql(query)

    @model_validator(mode="after")
    def _query_fits(self) -> SLO:
        check_signal(self.metric, self.series, self.query, self.floor, "slo", self.name)
        return self

    @field_validator("series")
    @classmethod
    def _series_fits(
        cls, series: TelemetrySeries | None, info: ValidationInfo
    ) -> TelemetrySeries | None:
        metric = info.data.get("metric")
        if series is not None and metric is not None and metric not in TELEMETRY_METRICS:
            allowed = ", ".join(sorted(m.value for m in TELEMETRY_METRICS))
            raise ValueError(
                f"no series for {metric.value}, which the load engine measures; a series "
                f"maps only a metric read from platform telemetry ({allowed})"
            )
        return series

    @property
    def is_floor(self) -> bool:
        return self.metric in FLOOR_METRICS or self.floor

    @property
    def signal(self) -> str | None:
        """``metric: query``: how the live run names its series (:func:`series_signal`)."""
        if self.metric is not SLOMetric.QUERY or self.series is None:
            return None
        return series_signal(self.series)

    @property
    def at_end(self) -> bool:
        """Judged once, at the end of the run (:data:`END_OF_RUN_METRICS`)."""
        return self.metric in END_OF_RUN_METRICS


def series_signal(ref: SeriesRef) -> str:
    """A series as the live run names it: ``service/metric`` (``*`` for any service), then
    ``{label=a|b,...}`` when it names labels."""
    labels = ",".join(f"{k}={'|'.join(v)}" for k, v in sorted(ref.labels.items()))
    name = f"{ref.service or '*'}/{ref.metric}"
    return f"{name}{{{labels}}}" if labels else name


def check_signal(
    metric: SLOMetric,
    series: SeriesRef | None,
    query: str | None,
    floor: bool,
    kind: str,
    name: str,
) -> None:
    """The rules of ``metric: query`` shared by SLOs and stop conditions (``kind`` ``slo``
    or ``stop``; ``name`` what the derived series name is made of)."""
    if metric is SLOMetric.QUERY:
        if series is None:
            raise ValueError(
                "metric query: a series: {metric: NAME, service: ..., labels: ...} of the "
                "recorded telemetry, or query: PROMQL"
            )
        derived = query_series_name(kind, name)
        if query is not None and (series.metric, series.service) != (derived, PROMETHEUS_SERVICE):
            raise ValueError(
                f"query: or series:, not both (query: is recorded as series {derived!r})"
            )
        return
    if query is not None:
        raise ValueError(f"query: only with metric: query, not {metric.value}")
    if floor:
        raise ValueError(f"floor: only with metric: query ({metric.value} has its own direction)")


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
