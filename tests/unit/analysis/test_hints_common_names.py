"""Bottleneck hints of a platform seen only through the common metric names: the scrape's
process CPU where psutil watched nothing, and 5xx answers per service, on synthetic rows."""

from __future__ import annotations

import numpy as np
import pytest

from spikekit.analysis.hints import HintKind, bottleneck_hints, explain_failure
from spikekit.analysis.rundir import RunData
from tests.unit.analysis.test_hints import base_run, logins, only, steady, window, with_series

__all__ = ["base_run"]  # the fixture, shared with test_hints

FAMILY = "family=http_requests_per_s"


def errors(service: str, labels: str, values: np.ndarray) -> tuple[str, str, str, np.ndarray]:
    return (service, "http_5xx_per_s", f"{FAMILY},{labels}", values)


def answers(service: str, labels: str, values: np.ndarray) -> tuple[str, str, str, np.ndarray]:
    return (service, "http_requests_per_s", labels, values)


@pytest.mark.parametrize(("cpu", "fires"), [(89.0, False), (90.0, True)])
def test_the_scraped_cpu_of_an_unwatched_service_is_judged_like_psutils(
    base_run: RunData, cpu: float, fires: bool
) -> None:
    run = with_series(
        base_run,
        ("checkout", "scraped_cpu_percent", "", window(150, 160, cpu, 20.0)),
        ("search", "scraped_cpu_percent", "instance=search-2", window(10, 14, 150.0)),
    )
    hints = {h.service: h for h in only(bottleneck_hints(run), HintKind.PROCESS_CPU)}
    assert ("checkout" in hints) is fires
    if fires:
        hint = hints["checkout"]
        assert (hint.subject, hint.replica, hint.first_t, hint.seconds) == (
            "checkout",
            None,
            150,
            10,
        )
    search = hints["search"]
    assert (search.subject, search.replica, search.peak) == ("search-2", "search-2", 150.0)


def test_psutil_is_preferred_where_it_watched_the_service(base_run: RunData) -> None:
    run = with_series(
        base_run,
        ("auth", "process_cpu_percent", "process=auth", window(20, 40, 95.0)),
        ("auth", "scraped_cpu_percent", "", window(20, 40, 96.0)),
        ("wallet", "process_cpu_percent", "process=wallet", steady(30.0)),
        ("wallet", "scraped_cpu_percent", "", window(20, 40, 99.0)),  # psutil says 30 %
    )
    [hint] = only(bottleneck_hints(run), HintKind.PROCESS_CPU)
    assert (hint.service, hint.subject, hint.peak) == ("auth", "auth", 95.0)


def test_a_service_answering_5xx_is_named_with_its_share_and_its_worst_route(
    base_run: RunData,
) -> None:
    pay, cart = "method=POST,route=/pay", "method=GET,route=/cart"
    run = with_series(
        base_run,
        errors("checkout", f"{pay},status=503", window(100, 110, 40.0)),
        errors("checkout", f"{cart},status=500", window(100, 110, 10.0)),
        answers("checkout", f"{pay},status=503", window(100, 110, 40.0)),
        answers("checkout", f"{cart},status=500", window(100, 110, 10.0)),
        answers("checkout", f"{pay},status=200", steady(150.0)),
    )
    [hint] = only(bottleneck_hints(run), HintKind.SERVER_ERRORS)
    assert (hint.service, hint.first_t, hint.seconds, hint.phase) == ("checkout", 100, 10, "ramp")
    assert hint.total == 500 and hint.peak == 50
    assert hint.share == pytest.approx(50 / 200)
    assert "25% of its answers" in hint.detail and "most on POST /pay" in hint.detail


@pytest.mark.parametrize(
    ("per_s", "seconds", "served", "fires"),
    [
        (2.0, 3, 100.0, True),
        (2.0, 2, 100.0, False),
        (0.9, 30, 10.0, False),
        (2.0, 30, 300.0, False),
    ],
)
def test_5xx_need_one_a_second_for_three_seconds_and_one_percent_of_the_answers(
    base_run: RunData, per_s: float, seconds: int, served: float, fires: bool
) -> None:
    run = with_series(
        base_run,
        errors("search", "status=502", window(50, 50 + seconds, per_s)),
        answers("search", "status=200", steady(served)),
    )
    assert bool(only(bottleneck_hints(run), HintKind.SERVER_ERRORS)) is fires


def test_two_families_of_one_service_are_not_counted_twice(base_run: RunData) -> None:
    twice = "family=http_request_duration_per_s,route=/pay,status=5xx"
    run = with_series(
        base_run,
        errors("checkout", "route=/pay,status=503", window(10, 20, 30.0)),
        ("checkout", "http_5xx_per_s", twice, window(10, 20, 30.0)),
    )
    [hint] = only(bottleneck_hints(run), HintKind.SERVER_ERRORS)
    assert hint.total == 300 and hint.share is None  # no raw rows: no share


def test_a_service_already_named_for_shedding_gets_no_5xx_hint(base_run: RunData) -> None:
    run = with_series(
        base_run,
        logins("ok", steady(20.0)),
        logins("overloaded", window(120, 150, 100.0)),
        errors("auth", "route=/login,status=503", window(120, 150, 100.0)),
        errors("gateway", "route=/api/login,status=503", window(120, 150, 100.0)),
    )
    hints = bottleneck_hints(run)
    assert [h.service for h in only(hints, HintKind.AUTH_OVERLOADED)] == ["auth"]
    assert [h.service for h in only(hints, HintKind.SERVER_ERRORS)] == ["gateway"]


def test_the_scraped_cpu_counts_as_looked_at_when_nothing_fired(base_run: RunData) -> None:
    run = with_series(
        base_run,
        ("checkout", "scraped_cpu_percent", "", steady(20.0)),
        errors("checkout", "status=500", steady(0.0)),
    )
    [hint] = explain_failure(run, bottleneck_hints(run), failed=True)
    assert hint.kind is HintKind.UNEXPLAINED
    looked_at = hint.detail.split("; no series recorded")[0]
    assert "process CPU" in looked_at and "HTTP 5xx" in looked_at
