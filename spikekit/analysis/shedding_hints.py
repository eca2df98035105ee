"""Hints of a service refusing work: shedding by its own rules (auth, the gateway's
backpressure, a studio at the door) and 5xx answers from the common HTTP metric names.

Injected faults are chaos, not shedding: a studio's injected errors carry their own code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from spikekit.analysis.common_series import server_errors
from spikekit.analysis.hint_model import BottleneckHint, HintKind, when, who
from spikekit.analysis.rundir import RunData
from spikekit.analysis.sources import episode, per_instance

SHED_MIN_PER_S = 1.0  # refusals per second for a second to count as shedding
SHED_MIN_S = 3  # seconds of shedding
SERVER_ERRORS_MIN_SHARE = 0.01  # of a service's answers in a second, when they are known


@dataclass(frozen=True)
class ShedRule:
    """Refusals a service counts: ``metric`` rows whose labels ``refused`` accepts, as a
    share of its answers (``answers`` rows whose labels ``answered`` accepts, plus the
    refusals themselves when ``refusals_uncounted``: they never reached its handlers)."""

    kind: HintKind
    service: Callable[[str], bool]
    metric: str
    refused: Callable[[dict[str, str]], bool]
    answers: str
    answered: Callable[[dict[str, str]], bool]
    what: str
    refusals_uncounted: bool = False


def _any(_: dict[str, str]) -> bool:
    return True


def _outcome(value: str) -> Callable[[dict[str, str]], bool]:
    return lambda labels: labels.get("outcome") == value


SHED_RULES = (
    ShedRule(
        HintKind.AUTH_OVERLOADED,
        lambda name: name == "auth",
        "auth_logins_per_s",
        _outcome("overloaded"),
        "auth_logins_per_s",
        _any,
        "logins refused as overloaded (503): password checks beyond its bound",
    ),
    ShedRule(
        HintKind.AUTH_RATE_LIMITING,
        lambda name: name == "auth",
        "auth_logins_per_s",
        _outcome("rate_limited"),
        "auth_logins_per_s",
        _any,
        "logins refused by the rate limit (429)",
    ),
    ShedRule(
        HintKind.GATEWAY_BACKPRESSURE,
        lambda name: name == "gateway",
        "gateway_backpressure_rejected_per_s",
        _any,
        "http_request_duration_per_s",
        _any,
        "requests refused by the in-flight bound (503 + Retry-After)",
        refusals_uncounted=True,
    ),
    ShedRule(
        HintKind.STUDIO_SHEDDING,
        lambda name: name.startswith("provider-"),
        "provider_rejected_per_s",
        lambda labels: labels.get("code") in ("OVER_CAPACITY", "RATE_LIMITED"),
        "http_request_duration_per_s",
        _any,
        "launches and rounds refused at the door (capacity or rate limit, 429/503)",
    ),
)


def shedding_hints(run: RunData, rule: ShedRule, phase: Sequence[str]) -> Iterator[BottleneckHint]:
    metrics, n = run.platform_metrics, run.duration_s
    answers = per_instance(metrics, rule.answers, n, rule.answered)
    for (service, replica), refused in per_instance(metrics, rule.metric, n, rule.refused).items():
        if not rule.service(service):
            continue
        e = episode(refused >= SHED_MIN_PER_S)
        if e is None or e.seconds < SHED_MIN_S:
            continue
        inside = slice(e.first_t, e.last_t + 1)
        total = float(refused[inside].sum())
        answered = float(answers.get((service, replica), np.zeros(n))[inside].sum())
        if rule.refusals_uncounted:
            answered += total
        share = total / answered if answered > 0 else None
        peak = float(refused.max())
        of = f", {share:.0%} of its answers" if share is not None else ""
        yield BottleneckHint(
            rule.kind,
            who(service, replica),
            e.first_t,
            e.seconds,
            f"{rule.what} {when(e, phase)}; "
            f"{total:,.0f} refused, peak {peak:,.0f}/s, "
            f"mean {total / (e.last_t - e.first_t + 1):,.0f}/s{of}",
            service=service,
            replica=replica,
            phase=phase[e.first_t],
            last_t=e.last_t,
            peak=peak,
            total=total,
            share=share,
        )


def server_error_hints(
    run: RunData, phase: Sequence[str], explained: set[tuple[str, str | None]]
) -> Iterator[BottleneckHint]:
    """Services answering 5xx at ≥ 1/s (and ≥ 1 % of their answers, when known) for
    ≥ 3 s; not those in ``explained`` (service, replica), whose shedding they are."""
    n = run.duration_s
    for (service, replica), found in sorted(
        server_errors(run.platform_metrics, n).items(), key=lambda item: str(item[0])
    ):
        if (service, replica) in explained:
            continue
        errors, answers = found.errors, found.answers
        mask = errors >= SHED_MIN_PER_S
        if answers is not None:
            mask &= errors >= SERVER_ERRORS_MIN_SHARE * answers
        e = episode(mask)
        if e is None or e.seconds < SHED_MIN_S:
            continue
        inside = slice(e.first_t, e.last_t + 1)
        total, peak = float(errors[inside].sum()), float(errors.max())
        answered = float(answers[inside].sum()) if answers is not None else 0.0
        share = total / answered if answered > 0 else None
        of = f", {share:.0%} of its answers" if share is not None else ""
        route = found.top_route(inside)
        most = f", most on {route}" if route else ""
        yield BottleneckHint(
            HintKind.SERVER_ERRORS,
            who(service, replica),
            e.first_t,
            e.seconds,
            f"5xx answers ({found.family}) {when(e, phase)}; {total:,.0f} in all, "
            f"peak {peak:,.0f}/s{of}{most}",
            service=service,
            replica=replica,
            phase=phase[e.first_t],
            last_t=e.last_t,
            peak=peak,
            total=total,
            share=share,
        )
